import type { ClickHouseClient } from '@clickhouse/client';
import type { MessageId, ProfileWindow } from '@firesight/protocol';
import type { HostSummary, MergedProfile, ProcessSeen, ProfileQuery, ProfileStore, TimelineQuery } from '../profile-store.ts';
import { ProfileWriter } from './profile-insert.ts';
import { ProfileReader } from './profile-query.ts';
import type { RetentionState } from './retention-state.ts';
import { num, str } from './sql.ts';

/** Profile windows in ClickHouse: samples per window, stacks and frames once per day through a dictionary. */
export class ClickhouseProfileStore implements ProfileStore {
	readonly #client: ClickHouseClient;
	readonly #check: () => void;
	readonly #retention: RetentionState;
	readonly writer: ProfileWriter;
	readonly #reader: ProfileReader;

	constructor(client: ClickHouseClient, check: () => void, retention: RetentionState, cacheBudget?: number) {
		this.#client = client;
		this.#check = check;
		this.#retention = retention;
		this.writer = new ProfileWriter(client, cacheBudget);
		this.#reader = new ProfileReader(client, retention, cacheBudget);
	}

	get cacheResets(): number {
		return this.writer.resets + this.#reader.cacheResets;
	}

	async insertWindow(window: ProfileWindow, id?: MessageId): Promise<void> {
		this.#check();
		await this.writer.insert(window, id);
	}

	async query(query: ProfileQuery): Promise<MergedProfile> {
		this.#check();
		return this.#reader.query(query);
	}

	async timeline(query: TimelineQuery): Promise<number[]> {
		this.#check();
		return this.#reader.timeline(query);
	}

	async listHosts(): Promise<HostSummary[]> {
		this.#check();
		const rows = await (
			await this.#client.query({
				query: `SELECT host, min(start_ms) AS firstMs, max(start_ms + duration_ms) AS lastMs, count() AS windows,
				               sum(frequency_hz * duration_ms) / sum(duration_ms) AS frequencyHz
				        FROM profile_windows WHERE ${this.#after('start_ms + duration_ms')} GROUP BY host ORDER BY host`,
				format: 'JSONEachRow',
			})
		).json<{ host: string; firstMs: string; lastMs: string; windows: string; frequencyHz: number }>();
		return rows.map((r) => ({
			host: r.host,
			firstMs: Number(r.firstMs),
			lastMs: Number(r.lastMs),
			windows: Number(r.windows),
			frequencyHz: Number(r.frequencyHz),
		}));
	}

	async findProcess(pid: number, host?: string): Promise<ProcessSeen | null> {
		this.#check();
		const where = [`pid = ${num(pid)}`, this.#after('last_ms')];
		if (host !== undefined) where.push(`host = ${str(host)}`);
		const rows = await (
			await this.#client.query({
				query: `SELECT host, pid, comm, max(last_ms) AS lastMs FROM profile_processes WHERE ${where.join(' AND ')}
				        GROUP BY host, pid, comm ORDER BY lastMs DESC LIMIT 1`,
				format: 'JSONEachRow',
			})
		).json<{ host: string; pid: number; comm: string; lastMs: string }>();
		const r = rows[0];
		return r ? { host: r.host, pid: Number(r.pid), comm: r.comm, lastMs: Number(r.lastMs) } : null;
	}

	/** Rows whose end (an expression) is after the retention cutoff. */
	#after(end: string): string {
		return Number.isFinite(this.#retention.cutoffMs) ? `${end} > ${num(this.#retention.cutoffMs)}` : '1';
	}
}
