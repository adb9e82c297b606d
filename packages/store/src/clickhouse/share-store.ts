import type { ClickHouseClient } from '@clickhouse/client';
import type { Profile } from '@firesight/profile';
import { isShareId, type NewShare, type Share, type ShareStore, type ShareSummary } from '../share-store.ts';
import { newShareSummary, SHARE_SUMMARY_COLUMNS, shareSummaryOf, type ShareRow } from '../stored-rows.ts';
import { awaitMutations } from './mutations.ts';
import { str } from './sql.ts';

/**
 * Shares in ClickHouse: one row each, the snapshot as JSON text (ClickHouse compresses the
 * column). Few and read whole, so nothing is batched; a delete is a mutation this waits for,
 * so a deleted share's data is gone when delete() resolves.
 */
export class ClickhouseShareStore implements ShareStore {
	readonly #client: ClickHouseClient;
	readonly #database: string;
	readonly #check: () => void;
	readonly #now: () => number;

	constructor(client: ClickHouseClient, database: string, check: () => void, now: () => number) {
		this.#client = client;
		this.#database = database;
		this.#check = check;
		this.#now = now;
	}

	async create(share: NewShare): Promise<ShareSummary> {
		this.#check();
		const summary = newShareSummary(share, this.#now());
		await this.#client.insert({
			table: 'shares',
			values: [
				{
					id: summary.id,
					created_ms: summary.createdMs,
					creator: summary.creator,
					source: JSON.stringify(summary.source),
					view_state: summary.viewState === null ? null : JSON.stringify(summary.viewState),
					total_samples: summary.totalSamples,
					stacks: summary.stacks,
					profile: JSON.stringify(share.profile),
				},
			],
			format: 'JSONEachRow',
		});
		return summary;
	}

	async get(id: string): Promise<Share | null> {
		this.#check();
		if (!isShareId(id)) return null;
		const rows = await this.#rows<ShareRow & { profile: string }>(
			`SELECT ${SHARE_SUMMARY_COLUMNS}, profile FROM shares WHERE id = ${str(id)} LIMIT 1`,
		);
		const row = rows[0];
		if (!row) return null;
		return { ...shareSummaryOf(row), profile: JSON.parse(row.profile) as Profile };
	}

	async summary(id: string): Promise<ShareSummary | null> {
		this.#check();
		if (!isShareId(id)) return null;
		const rows = await this.#rows<ShareRow>(`SELECT ${SHARE_SUMMARY_COLUMNS} FROM shares WHERE id = ${str(id)} LIMIT 1`);
		return rows[0] ? shareSummaryOf(rows[0]) : null;
	}

	async list(): Promise<ShareSummary[]> {
		this.#check();
		const rows = await this.#rows<ShareRow>(`SELECT ${SHARE_SUMMARY_COLUMNS} FROM shares ORDER BY created_ms DESC, id`);
		return rows.map(shareSummaryOf);
	}

	async delete(id: string): Promise<boolean> {
		this.#check();
		if (!isShareId(id)) return false;
		const found = await this.#rows<{ n: string }>(`SELECT count() AS n FROM shares WHERE id = ${str(id)}`);
		if (Number(found[0]?.n ?? 0) === 0) return false;
		await this.#client.command({ query: `ALTER TABLE shares DELETE WHERE id = ${str(id)}` });
		await awaitMutations(this.#client, this.#database, 'shares');
		return true;
	}

	async #rows<T>(query: string): Promise<T[]> {
		return (await this.#client.query({ query, format: 'JSONEachRow' })).json<T>();
	}
}
