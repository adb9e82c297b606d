import type { ClickHouseClient } from '@clickhouse/client';
import type { IngestLedger } from '../ingest-ledger.ts';
import { Batcher } from './batcher.ts';
import { awaitMutations } from './mutations.ts';
import { MESSAGE_ID_TABLES } from './schema.ts';
import { num, str } from './sql.ts';

interface LedgerRow {
	host: string;
	boot: string;
	seq: number;
	updated_ms: number;
}

/** Runs whose mark this process knows, at most; past this it reads marks again. */
const MAX_KNOWN_RUNS = 100_000;

/**
 * The ledger in ClickHouse. The mark is the highest id found either in the data tables, whose
 * rows carry their message's id (see MESSAGE_ID_TABLES: written in the same INSERT, so a hub
 * that dies right after it still has the id), or in `ingested_messages`: a row per record,
 * gathered into batched INSERTs, for messages with no rows. Each of those rows carries the
 * run's mark so far (never less than an earlier row's), so the newest row holds it and
 * ReplacingMergeTree folds a run into that one row. Retention deletes the runs not written to
 * since the cutoff, and waits for the deletion; their data goes with its day partitions.
 */
export class ClickhouseIngestLedger implements IngestLedger {
	readonly #client: ClickHouseClient;
	readonly #database: string;
	readonly #check: () => void;
	readonly #now: () => number;
	readonly #known = new Map<string, number>();
	readonly batcher: Batcher<LedgerRow>;

	constructor(client: ClickHouseClient, database: string, check: () => void, now: () => number) {
		this.#client = client;
		this.#database = database;
		this.#check = check;
		this.#now = now;
		this.batcher = new Batcher<LedgerRow>(
			async (rows) => {
				await client.insert({ table: 'ingested_messages', values: rows, format: 'JSONEachRow' });
			},
			{ maxBatch: 100_000, maxPending: 1_000_000 },
		);
	}

	/** Read from the server every time: the data tables may hold ids this process never recorded. */
	async highWater(host: string, boot: string): Promise<number> {
		this.#check();
		await this.batcher.drain();
		const where = `host = ${str(host)} AND message_boot = ${str(boot)}`;
		const parts = [
			`SELECT seq AS m FROM ingested_messages WHERE host = ${str(host)} AND boot = ${str(boot)}`,
			...MESSAGE_ID_TABLES.map(({ table, rows }) => `SELECT message_seq AS m FROM ${table} WHERE ${where} AND ${rows}`),
		];
		const found = await (
			await this.#client.query({
				query: `SELECT toString(max(m)) AS high, count() AS n FROM (${parts.join(' UNION ALL ')})`,
				format: 'JSONEachRow',
			})
		).json<{ high: string; n: string }>();
		return Number(found[0]?.n ?? 0) > 0 ? Number(found[0]!.high) : -1;
	}

	async record(host: string, boot: string, seq: number): Promise<void> {
		this.#check();
		const mark = Math.max(await this.#read(host, boot), seq);
		const key = `${host}\0${boot}`;
		if (this.#known.size >= MAX_KNOWN_RUNS) this.#known.clear();
		this.#known.set(key, mark);
		await this.batcher.add({ host, boot, seq: mark, updated_ms: this.#now() }, 1);
	}

	async #read(host: string, boot: string): Promise<number> {
		const known = this.#known.get(`${host}\0${boot}`);
		if (known !== undefined) return known;
		const rows = await (
			await this.#client.query({
				query: `SELECT toString(max(seq)) AS mark, count() AS n FROM ingested_messages WHERE host = ${str(host)} AND boot = ${str(boot)}`,
				format: 'JSONEachRow',
			})
		).json<{ mark: string; n: string }>();
		return Number(rows[0]?.n ?? 0) > 0 ? Number(rows[0]!.mark) : -1;
	}

	/** Deletes the runs last written to before `cutoffMs`. */
	async prune(cutoffMs: number): Promise<void> {
		await this.batcher.drain();
		const stale = await (
			await this.#client.query({
				query: `SELECT host, boot FROM ingested_messages GROUP BY host, boot HAVING max(updated_ms) < ${num(Math.max(0, cutoffMs))}`,
				format: 'JSONEachRow',
			})
		).json<{ host: string; boot: string }>();
		if (stale.length === 0) return;
		for (let i = 0; i < stale.length; i += 1000) {
			const runs = stale.slice(i, i + 1000);
			const list = runs.map((r) => `(${str(r.host)}, ${str(r.boot)})`).join(', ');
			await this.#client.command({ query: `ALTER TABLE ingested_messages DELETE WHERE (host, boot) IN (${list})` });
			for (const r of runs) this.#known.delete(`${r.host}\0${r.boot}`);
		}
		await awaitMutations(this.#client, this.#database, 'ingested_messages');
	}
}
