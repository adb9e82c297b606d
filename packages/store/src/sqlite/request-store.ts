import type Database from 'better-sqlite3';
import type { MessageId, RequestBatch, RequestWindow } from '@firesight/protocol';
import { addEndpointTotals, emptyEndpointTotals, endpointFigures, histogramResult, type EndpointTotals } from '../endpoint-totals.ts';
import { addHistogram, emptyHistogram } from '../request-histogram.ts';
import type {
	EndpointQuery,
	EndpointSummary,
	EndpointsResult,
	HistogramQuery,
	HistogramResult,
	RequestListQuery,
	RequestStore,
	StoredRequest,
} from '../request-store.ts';
import { endpointColumns, requestColumns, requestRole, storedRequestOf, type RequestRow } from '../stored-rows.ts';
import { packHistogram, unpackHistogram } from './histogram-codec.ts';
import type { RecordInTransaction } from './ingest-ledger.ts';
import { addHostPidFilter } from './sqlite-file.ts';

interface EndpointRow {
	host: string;
	start_ms: number;
	duration_ms: number;
	pid: number;
	comm: string;
	role: string;
	method: string;
	endpoint: string;
	count: number;
	errors: number;
	client_errors: number;
	req_bytes: number;
	resp_bytes: number;
	sum_latency_ms: number;
	max_latency_ms: number;
	histogram: Buffer;
}

/**
 * HTTPS requests, one row each, and endpoint aggregates, one row per window and endpoint.
 * Requests are stored exactly as the collector sent them: redaction happens there, before
 * anything leaves the host.
 */
export class SqliteRequestStore implements RequestStore {
	readonly #db: Database.Database;
	readonly #check: () => void;
	readonly #insertRequest;
	readonly #insertEndpoint;
	readonly #recordId: RecordInTransaction;

	constructor(db: Database.Database, check: () => void, recordId: RecordInTransaction) {
		this.#db = db;
		this.#check = check;
		this.#recordId = recordId;
		this.#insertRequest = db.prepare(
			`INSERT INTO http_requests (host, ts, pid, comm, role, method, path, endpoint, status, latency_ms, req_bytes, resp_bytes,
			   local, remote, connection, http_version, request_headers, response_headers, request_body, response_body, request_id)
			 VALUES (@host, @ts, @pid, @comm, @role, @method, @path, @endpoint, @status, @latency_ms, @req_bytes, @resp_bytes,
			   @local, @remote, @connection, @http_version, @request_headers, @response_headers, @request_body, @response_body, @request_id)`,
		);
		this.#insertEndpoint = db.prepare(
			`INSERT INTO request_endpoints (host, start_ms, duration_ms, pid, comm, role, method, endpoint, count, errors, client_errors,
			   req_bytes, resp_bytes, sum_latency_ms, max_latency_ms, histogram)
			 VALUES (@host, @start_ms, @duration_ms, @pid, @comm, @role, @method, @endpoint, @count, @errors, @client_errors,
			   @req_bytes, @resp_bytes, @sum_latency_ms, @max_latency_ms, @histogram)`,
		);
	}

	async insertBatch(batch: RequestBatch): Promise<void> {
		this.#check();
		if (batch.requests.length === 0) return;
		this.#db.transaction(() => {
			for (const r of batch.requests) this.#insertRequest.run(requestColumns(batch.host, r));
		})();
	}

	async insertWindow(w: RequestWindow, id?: MessageId): Promise<void> {
		this.#check();
		this.#db.transaction(() => {
			if (id) this.#recordId(w.host, id);
			for (const e of w.endpoints) this.#insertEndpoint.run({ ...endpointColumns(w, e), histogram: packHistogram(e.histogram) });
		})();
	}

	async list(q: RequestListQuery): Promise<StoredRequest[]> {
		this.#check();
		const parts = ['ts >= @since'];
		const params: Record<string, number | string> = { since: q.sinceMs, limit: q.limit };
		if (q.untilMs !== undefined) {
			parts.push('ts < @until');
			params.until = q.untilMs;
		}
		addHostPidFilter(q, parts, params);
		const rows = this.#db
			.prepare<Record<string, number | string>, RequestRow>(
				`SELECT * FROM http_requests WHERE ${parts.join(' AND ')} ORDER BY ts, id LIMIT @limit`,
			)
			.all(params);
		return rows.map(storedRequestOf);
	}

	#endpointRows(q: EndpointQuery, extra?: Omit<HistogramQuery, keyof EndpointQuery>): EndpointRow[] {
		const parts = ['start_ms >= @fromMs', 'start_ms < @toMs'];
		const params: Record<string, number | string> = { fromMs: q.fromMs, toMs: q.toMs };
		addHostPidFilter(q, parts, params);
		if (extra) {
			parts.push('endpoint = @endpoint');
			params.endpoint = extra.endpoint;
			if (extra.method !== undefined) {
				parts.push('method = @method');
				params.method = extra.method;
			}
			if (extra.role !== undefined) {
				parts.push('role = @role');
				params.role = extra.role;
			}
		}
		return this.#db
			.prepare<Record<string, number | string>, EndpointRow>(
				`SELECT * FROM request_endpoints WHERE ${parts.join(' AND ')} ORDER BY start_ms`,
			)
			.all(params);
	}

	async endpoints(q: EndpointQuery): Promise<EndpointsResult> {
		this.#check();
		const rows = this.#endpointRows(q);
		const merged = new Map<string, { row: EndpointRow; totals: EndpointTotals }>();
		// Windows per host: the time they cover is what a rate is taken over.
		const windows = new Map<string, { start: number; end: number }>();
		let first = Infinity;
		let last = -Infinity;
		for (const r of rows) {
			windows.set(`${r.host}\u0000${r.start_ms}`, { start: r.start_ms, end: r.start_ms + r.duration_ms });
			first = Math.min(first, r.start_ms);
			last = Math.max(last, r.start_ms + r.duration_ms);
			const key = `${r.host}\u0000${r.pid}\u0000${r.role}\u0000${r.method}\u0000${r.endpoint}`;
			let e = merged.get(key);
			if (!e) {
				e = { row: r, totals: emptyEndpointTotals() };
				merged.set(key, e);
			}
			e.row = r; // rows come oldest first: the newest comm wins
			addEndpointTotals(e.totals, {
				count: r.count,
				errors: r.errors,
				clientErrors: r.client_errors,
				reqBytes: r.req_bytes,
				respBytes: r.resp_bytes,
				sumMs: r.sum_latency_ms,
				maxMs: r.max_latency_ms,
				histogram: unpackHistogram(r.histogram),
			});
		}
		const coveredMs = rows.length ? last - first : 0;
		const seconds = coveredMs / 1000;
		const endpoints: EndpointSummary[] = [...merged.values()].map(({ row: r, totals }) => ({
			host: r.host,
			pid: r.pid,
			comm: r.comm,
			role: requestRole(r.role),
			method: r.method,
			endpoint: r.endpoint,
			ratePerSec: seconds > 0 ? totals.count / seconds : 0,
			...endpointFigures(totals),
		}));
		endpoints.sort((a, b) => b.count - a.count || (a.endpoint < b.endpoint ? -1 : 1));
		return { coveredMs, windows: windows.size, endpoints };
	}

	async histogram(q: HistogramQuery): Promise<HistogramResult> {
		this.#check();
		const rows = this.#endpointRows(q, { endpoint: q.endpoint, method: q.method, role: q.role });
		const histogram = emptyHistogram();
		let maxMs = 0;
		for (const r of rows) {
			addHistogram(histogram, unpackHistogram(r.histogram));
			maxMs = Math.max(maxMs, r.max_latency_ms);
		}
		return histogramResult(histogram, maxMs);
	}

	/**
	 * Drops aggregates of windows that ended before `cutoffMs`, requests before it, and the
	 * oldest requests over `maxRequests`; returns how many rows went.
	 */
	prune(cutoffMs: number, maxRequests: number): number {
		let n = this.#db.prepare('DELETE FROM request_endpoints WHERE start_ms + duration_ms < ?').run(cutoffMs).changes;
		n += this.#db.prepare('DELETE FROM http_requests WHERE ts < ?').run(cutoffMs).changes;
		// Ids grow with insertion: everything at or below the newest id minus the cap is over it.
		const max = this.#db.prepare('SELECT MAX(id) AS id FROM http_requests').get() as { id: number | null };
		if (max.id !== null) n += this.#db.prepare('DELETE FROM http_requests WHERE id <= ?').run(max.id - maxRequests).changes;
		return n;
	}
}
