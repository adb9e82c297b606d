import type { ClickHouseClient } from '@clickhouse/client';
import type { MessageId, RetransmitWindow } from '@firesight/protocol';
import {
	MAX_SERIES_BUCKETS,
	type ConnectionQuery,
	type ConnectionRetransmits,
	type ConnectionStore,
	type RetransmitSeries,
	type RetransmitSeriesResult,
	type SeriesQuery,
} from '../connection-store.ts';
import { connectionColumns, connectionOf, type ConnectionRow } from '../stored-rows.ts';
import { Batcher } from './batcher.ts';
import type { RetentionState } from './retention-state.ts';
import { messageIdColumns } from './schema.ts';
import { dateString, dayNumber, dayRange, num, str } from './sql.ts';

type Row = Record<string, string | number | null>;

/** Retransmit windows, one row per window and connection, written in batches. */
export class ClickhouseConnectionStore implements ConnectionStore {
	readonly #client: ClickHouseClient;
	readonly #check: () => void;
	readonly #retention: RetentionState;
	readonly batcher: Batcher<Row[]>;

	constructor(client: ClickHouseClient, check: () => void, retention: RetentionState) {
		this.#client = client;
		this.#check = check;
		this.#retention = retention;
		this.batcher = new Batcher<Row[]>(
			async (items) => {
				await client.insert({ table: 'connection_retransmits', values: items.flat(), format: 'JSONEachRow' });
			},
			{ maxBatch: 500_000, maxPending: 2_000_000 },
		);
	}

	/** The window's rows carry its message id: they and the id go in one INSERT. */
	async insertWindow(w: RetransmitWindow, id?: MessageId): Promise<void> {
		this.#check();
		if (w.connections.length === 0) return;
		const day = dateString(dayNumber(w.startMs));
		const rows: Row[] = w.connections.map((c) => ({ day, ...connectionColumns(w, c), ...messageIdColumns(id) }));
		await this.batcher.add(rows, rows.length);
	}

	#where(q: ConnectionQuery): string {
		// Windows are picked by their start; the day of a start is its partition.
		const parts = [dayRange(q.fromMs, q.toMs), `start_ms >= ${num(Math.max(0, q.fromMs))}`, `start_ms < ${num(q.toMs)}`];
		if (Number.isFinite(this.#retention.cutoffMs)) parts.push(`start_ms + duration_ms >= ${num(this.#retention.cutoffMs)}`);
		if (q.host !== undefined) parts.push(`host = ${str(q.host)}`);
		if (q.pid !== undefined) parts.push(`pid = ${num(q.pid)}`);
		return parts.join(' AND ');
	}

	async query(q: ConnectionQuery): Promise<ConnectionRetransmits[]> {
		this.#check();
		const rows = await (
			await this.#client.query({
				// Aliases differ from column names (see ConnectionRow).
				query: `SELECT host, cookie, pid, argMax(comm, start_ms) AS newest_comm, family, saddr, sport, daddr, dport,
				               toString(sum(retransmits)) AS total, argMax(state, start_ms) AS newest_state,
				               toString(min(first_ms)) AS first_at, toString(max(last_ms)) AS last_at
				        FROM connection_retransmits WHERE ${this.#where(q)}
				        GROUP BY host, cookie, pid, family, saddr, sport, daddr, dport
				        ORDER BY sum(retransmits) DESC, max(last_ms) DESC`,
				format: 'JSONEachRow',
			})
		).json<ConnectionRow>();
		return rows.map(connectionOf);
	}

	async series(q: SeriesQuery): Promise<RetransmitSeriesResult> {
		this.#check();
		if (!(q.stepMs > 0)) throw new RangeError(`stepMs must be positive, got ${q.stepMs}`);
		const stepMs = Math.max(q.stepMs, Math.ceil((q.toMs - q.fromMs) / MAX_SERIES_BUCKETS));
		const startMs = Math.floor(q.fromMs / stepMs) * stepMs;
		const rows = await (
			await this.#client.query({
				query: `SELECT host, pid, max(comm) AS any_comm, intDiv(toInt64(start_ms) - ${num(startMs)}, ${num(stepMs)}) AS bucket,
				               toString(sum(retransmits)) AS total
				        FROM connection_retransmits WHERE ${this.#where(q)}
				        GROUP BY host, pid, bucket ORDER BY bucket`,
				format: 'JSONEachRow',
			})
		).json<{ host: string; pid: number; any_comm: string; bucket: string; total: string }>();
		const hosts = new Map<string, RetransmitSeries>();
		const processes = new Map<string, RetransmitSeries>();
		const add = (series: RetransmitSeries, t: number, n: number) => {
			series.total += n;
			const last = series.points.at(-1);
			if (last && last.t === t) last.retransmits += n;
			else series.points.push({ t, retransmits: n });
		};
		for (const r of rows) {
			const t = startMs + Number(r.bucket) * stepMs;
			const n = Number(r.total);
			let h = hosts.get(r.host);
			if (!h) hosts.set(r.host, (h = { host: r.host, total: 0, points: [] }));
			add(h, t, n);
			const key = `${r.host}\u0000${r.pid}`;
			let p = processes.get(key);
			if (!p) processes.set(key, (p = { host: r.host, pid: Number(r.pid), comm: r.any_comm, total: 0, points: [] }));
			add(p, t, n);
		}
		const byTotal = (a: RetransmitSeries, b: RetransmitSeries) => b.total - a.total;
		return { stepMs, startMs, hosts: [...hosts.values()].sort(byTotal), processes: [...processes.values()].sort(byTotal) };
	}
}
