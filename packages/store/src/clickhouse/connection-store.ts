import type { ClickHouseClient } from '@clickhouse/client';
import type { MessageId, RetransmitWindow } from '@firesight/protocol';
import type { ConnectionQuery, ConnectionRetransmits, ConnectionStore, RetransmitSeriesResult, SeriesQuery } from '../connection-store.ts';
import { connectionColumns, connectionOf, retransmitSeriesOf, seriesBuckets, type ConnectionRow, type SeriesRow } from '../stored-rows.ts';
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
		const buckets = seriesBuckets(q);
		const { stepMs, startMs } = buckets;
		const rows = await (
			await this.#client.query({
				query: `SELECT host, pid, max(comm) AS any_comm, intDiv(toInt64(start_ms) - ${num(startMs)}, ${num(stepMs)}) AS bucket,
				               toString(sum(retransmits)) AS total
				        FROM connection_retransmits WHERE ${this.#where(q)}
				        GROUP BY host, pid, bucket ORDER BY bucket`,
				format: 'JSONEachRow',
			})
		).json<SeriesRow>();
		return retransmitSeriesOf(rows, buckets);
	}
}
