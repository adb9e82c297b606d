import type Database from 'better-sqlite3';
import type { MessageId, RetransmitWindow } from '@firesight/protocol';
import type { ConnectionQuery, ConnectionRetransmits, ConnectionStore, RetransmitSeriesResult, SeriesQuery } from '../connection-store.ts';
import { connectionColumns, connectionOf, retransmitSeriesOf, seriesBuckets, type ConnectionRow, type SeriesRow } from '../stored-rows.ts';
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
		const buckets = seriesBuckets(q);
		const { sql, params } = this.#where(q);
		// Bound JS numbers are REAL in SQLite: the bucket needs an explicit integer cast.
		const rows = this.#db
			.prepare<Record<string, number | string>, SeriesRow>(
				`SELECT host, pid, MAX(comm) AS any_comm, CAST((start_ms - @startMs) / @stepMs AS INTEGER) AS bucket, SUM(retransmits) AS total
				 FROM connection_retransmits WHERE ${sql}
				 GROUP BY host, pid, bucket ORDER BY bucket`,
			)
			.all({ ...params, ...buckets });
		return retransmitSeriesOf(rows, buckets);
	}

	/** Drops windows that ended before `cutoffMs`; returns how many rows went. */
	prune(cutoffMs: number): number {
		return this.#db.prepare('DELETE FROM connection_retransmits WHERE start_ms + duration_ms < ?').run(cutoffMs).changes;
	}
}
