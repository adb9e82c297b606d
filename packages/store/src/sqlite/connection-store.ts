import type Database from 'better-sqlite3';
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
import type { RecordInTransaction } from './ingest-ledger.ts';
import { addHostPidFilter } from './sqlite-file.ts';

/** Retransmit windows, one row per window and connection. */
export class SqliteConnectionStore implements ConnectionStore {
	readonly #db: Database.Database;
	readonly #check: () => void;
	readonly #insert;
	readonly #recordId: RecordInTransaction;

	constructor(db: Database.Database, check: () => void, recordId: RecordInTransaction) {
		this.#db = db;
		this.#check = check;
		this.#recordId = recordId;
		this.#insert = db.prepare(
			`INSERT INTO connection_retransmits (host, start_ms, duration_ms, cookie, pid, comm, family, saddr, sport, daddr, dport, retransmits, state, first_ms, last_ms)
			 VALUES (@host, @start_ms, @duration_ms, @cookie, @pid, @comm, @family, @saddr, @sport, @daddr, @dport, @retransmits, @state, @first_ms, @last_ms)`,
		);
	}

	async insertWindow(w: RetransmitWindow, id?: MessageId): Promise<void> {
		this.#check();
		this.#db.transaction(() => {
			if (id) this.#recordId(w.host, id);
			for (const c of w.connections) this.#insert.run(connectionColumns(w, c));
		})();
	}

	#where(q: ConnectionQuery): { sql: string; params: Record<string, number | string> } {
		const parts = ['start_ms >= @fromMs', 'start_ms < @toMs'];
		const params: Record<string, number | string> = { fromMs: q.fromMs, toMs: q.toMs };
		addHostPidFilter(q, parts, params);
		return { sql: parts.join(' AND '), params };
	}

	async query(q: ConnectionQuery): Promise<ConnectionRetransmits[]> {
		this.#check();
		const { sql, params } = this.#where(q);
		// SQLite's bare-column rule: with MAX(start_ms), `state` comes from the newest window's row.
		const rows = this.#db
			.prepare<Record<string, number | string>, ConnectionRow & { newest: number }>(
				`SELECT host, cookie, pid, comm AS newest_comm, family, saddr, sport, daddr, dport,
				        SUM(retransmits) AS total, state AS newest_state, MAX(start_ms) AS newest,
				        MIN(first_ms) AS first_at, MAX(last_ms) AS last_at
				 FROM connection_retransmits WHERE ${sql}
				 GROUP BY host, cookie, pid, family, saddr, sport, daddr, dport
				 ORDER BY total DESC, last_at DESC`,
			)
			.all(params);
		return rows.map(connectionOf);
	}

	async series(q: SeriesQuery): Promise<RetransmitSeriesResult> {
		this.#check();
		if (!(q.stepMs > 0)) throw new RangeError(`stepMs must be positive, got ${q.stepMs}`);
		const stepMs = Math.max(q.stepMs, Math.ceil((q.toMs - q.fromMs) / MAX_SERIES_BUCKETS));
		const startMs = Math.floor(q.fromMs / stepMs) * stepMs;
		const { sql, params } = this.#where(q);
		// Bound JS numbers are REAL in SQLite: the bucket needs an explicit integer cast.
		const rows = this.#db
			.prepare<Record<string, number | string>, { host: string; pid: number; comm: string; bucket: number; retransmits: number }>(
				`SELECT host, pid, MAX(comm) AS comm, CAST((start_ms - @startMs) / @stepMs AS INTEGER) AS bucket, SUM(retransmits) AS retransmits
				 FROM connection_retransmits WHERE ${sql}
				 GROUP BY host, pid, bucket ORDER BY bucket`,
			)
			.all({ ...params, startMs, stepMs });
		const hosts = new Map<string, RetransmitSeries>();
		const processes = new Map<string, RetransmitSeries>();
		const add = (series: RetransmitSeries, t: number, n: number) => {
			series.total += n;
			const last = series.points.at(-1);
			if (last && last.t === t) last.retransmits += n;
			else series.points.push({ t, retransmits: n });
		};
		for (const r of rows) {
			const t = startMs + r.bucket * stepMs;
			let h = hosts.get(r.host);
			if (!h) hosts.set(r.host, (h = { host: r.host, total: 0, points: [] }));
			add(h, t, r.retransmits);
			const key = `${r.host}\u0000${r.pid}`;
			let p = processes.get(key);
			if (!p) processes.set(key, (p = { host: r.host, pid: r.pid, comm: r.comm, total: 0, points: [] }));
			add(p, t, r.retransmits);
		}
		const byTotal = (a: RetransmitSeries, b: RetransmitSeries) => b.total - a.total;
		return { stepMs, startMs, hosts: [...hosts.values()].sort(byTotal), processes: [...processes.values()].sort(byTotal) };
	}

	/** Drops windows that ended before `cutoffMs`; returns how many rows went. */
	prune(cutoffMs: number): number {
		return this.#db.prepare('DELETE FROM connection_retransmits WHERE start_ms + duration_ms < ?').run(cutoffMs).changes;
	}
}
