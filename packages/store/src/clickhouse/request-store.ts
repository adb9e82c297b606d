import type { ClickHouseClient } from '@clickhouse/client';
import type { MessageId, RequestBatch, RequestWindow } from '@firesight/protocol';
import { endpointFigures, histogramResult } from '../endpoint-totals.ts';
import type {
	EndpointQuery,
	EndpointSummary,
	EndpointsResult,
	HistogramQuery,
	HistogramResult,
	RequestFilter,
	RequestListQuery,
	RequestStore,
	StoredRequest,
} from '../request-store.ts';
import { endpointColumns, requestColumns, requestRole, storedRequestOf, type RequestRow } from '../stored-rows.ts';
import { Batcher } from './batcher.ts';
import type { RetentionState } from './retention-state.ts';
import { messageIdColumns } from './schema.ts';
import { dateString, dayNumber, dayRange, num, str } from './sql.ts';

type Row = Record<string, unknown>;

/**
 * HTTPS requests, one row each (as the collector redacted them), and endpoint aggregates, one
 * row per window and endpoint, merged by ClickHouse at query time.
 */
export class ClickhouseRequestStore implements RequestStore {
	readonly #client: ClickHouseClient;
	readonly #check: () => void;
	readonly #retention: RetentionState;
	readonly requestBatcher: Batcher<Row[]>;
	readonly endpointBatcher: Batcher<Row[]>;
	/** The next request's seq: insertion order, continued from the stored maximum. */
	#nextSeq: number;

	constructor(client: ClickHouseClient, check: () => void, retention: RetentionState, nextSeq: number) {
		this.#client = client;
		this.#check = check;
		this.#retention = retention;
		this.#nextSeq = nextSeq;
		const limits = { maxBatch: 200_000, maxPending: 1_000_000 };
		this.requestBatcher = new Batcher<Row[]>(async (items) => {
			await client.insert({ table: 'http_requests', values: items.flat(), format: 'JSONEachRow' });
		}, limits);
		this.endpointBatcher = new Batcher<Row[]>(async (items) => {
			await client.insert({ table: 'request_endpoints', values: items.flat(), format: 'JSONEachRow' });
		}, limits);
	}

	async insertBatch(batch: RequestBatch): Promise<void> {
		this.#check();
		if (batch.requests.length === 0) return;
		const rows: Row[] = batch.requests.map((r) => ({
			day: dateString(dayNumber(r.ts)),
			seq: this.#nextSeq++,
			...requestColumns(batch.host, r),
		}));
		await this.requestBatcher.add(rows, rows.length);
	}

	/** The window's rows carry its message id: they and the id go in one INSERT. */
	async insertWindow(w: RequestWindow, id?: MessageId): Promise<void> {
		this.#check();
		if (w.endpoints.length === 0) return;
		const day = dateString(dayNumber(w.startMs));
		const rows: Row[] = w.endpoints.map((e) => ({ day, ...endpointColumns(w, e), histogram: e.histogram, ...messageIdColumns(id) }));
		await this.endpointBatcher.add(rows, rows.length);
	}

	async list(q: RequestListQuery): Promise<StoredRequest[]> {
		this.#check();
		const parts = [`ts >= ${num(q.sinceMs)}`, `seq >= ${num(this.#retention.requestSeq)}`];
		if (q.untilMs !== undefined) {
			parts.push(`ts < ${num(q.untilMs)}`, dayRange(q.sinceMs, q.untilMs));
		} else {
			parts.push(`day >= toDate(${str(dateString(dayNumber(q.sinceMs)))})`);
		}
		if (Number.isFinite(this.#retention.cutoffMs)) parts.push(`ts >= ${num(this.#retention.cutoffMs)}`);
		filterHostPid(q, parts);
		const rows = await (
			await this.#client.query({
				query: `SELECT host, ts, pid, comm, role, method, path, endpoint, status, latency_ms, req_bytes, resp_bytes, local, remote,
				               connection, http_version, request_headers, response_headers, request_body, response_body, request_id
				        FROM http_requests WHERE ${parts.join(' AND ')} ORDER BY ts, seq LIMIT ${num(Math.max(0, Math.floor(q.limit)))}`,
				format: 'JSONEachRow',
			})
		).json<RequestRow>();
		return rows.map(storedRequestOf);
	}

	#endpointWhere(q: EndpointQuery, extra?: Omit<HistogramQuery, keyof EndpointQuery>): string {
		const parts = [dayRange(q.fromMs, q.toMs), `start_ms >= ${num(Math.max(0, q.fromMs))}`, `start_ms < ${num(q.toMs)}`];
		if (Number.isFinite(this.#retention.cutoffMs)) parts.push(`start_ms + duration_ms >= ${num(this.#retention.cutoffMs)}`);
		filterHostPid(q, parts);
		if (extra) {
			parts.push(`endpoint = ${str(extra.endpoint)}`);
			if (extra.method !== undefined) parts.push(`method = ${str(extra.method)}`);
			if (extra.role !== undefined) parts.push(`role = ${str(extra.role)}`);
		}
		return parts.join(' AND ');
	}

	async endpoints(q: EndpointQuery): Promise<EndpointsResult> {
		this.#check();
		const where = this.#endpointWhere(q);
		const [span, rows] = await Promise.all([
			this.#rows<{ windows: string; first_start: string; last_end: string }>(
				`SELECT uniqExact(host, start_ms) AS windows, toString(min(start_ms)) AS first_start, toString(max(start_ms + duration_ms)) AS last_end
				 FROM request_endpoints WHERE ${where}`,
			),
			this.#rows<{
				host: string;
				pid: number;
				role: string;
				method: string;
				endpoint: string;
				newest_comm: string;
				n: string;
				err: string;
				client_err: string;
				req: string;
				resp: string;
				sum_ms: number;
				max_ms: number;
				hist: string[];
			}>(
				`SELECT host, pid, role, method, endpoint, argMax(comm, start_ms) AS newest_comm, toString(sum(count)) AS n,
				        toString(sum(errors)) AS err, toString(sum(client_errors)) AS client_err, toString(sum(req_bytes)) AS req,
				        toString(sum(resp_bytes)) AS resp, sum(sum_latency_ms) AS sum_ms, max(max_latency_ms) AS max_ms,
				        sumForEach(histogram) AS hist
				 FROM request_endpoints WHERE ${where} GROUP BY host, pid, role, method, endpoint`,
			),
		]);
		const windows = Number(span[0]?.windows ?? 0);
		const coveredMs = windows > 0 ? Number(span[0]!.last_end) - Number(span[0]!.first_start) : 0;
		const seconds = coveredMs / 1000;
		const endpoints: EndpointSummary[] = rows.map((r) => {
			const count = Number(r.n);
			return {
				host: r.host,
				pid: Number(r.pid),
				comm: r.newest_comm,
				role: requestRole(r.role),
				method: r.method,
				endpoint: r.endpoint,
				ratePerSec: seconds > 0 ? count / seconds : 0,
				...endpointFigures({
					count,
					errors: Number(r.err),
					clientErrors: Number(r.client_err),
					reqBytes: Number(r.req),
					respBytes: Number(r.resp),
					sumMs: Number(r.sum_ms),
					maxMs: Number(r.max_ms),
					histogram: r.hist.map(Number),
				}),
			};
		});
		endpoints.sort((a, b) => b.count - a.count || (a.endpoint < b.endpoint ? -1 : 1));
		return { coveredMs, windows, endpoints };
	}

	async histogram(q: HistogramQuery): Promise<HistogramResult> {
		this.#check();
		const rows = await this.#rows<{ hist: string[]; max_ms: number | null; n: string }>(
			`SELECT sumForEach(histogram) AS hist, max(max_latency_ms) AS max_ms, count() AS n
			 FROM request_endpoints WHERE ${this.#endpointWhere(q, { endpoint: q.endpoint, method: q.method, role: q.role })}`,
		);
		const r = rows[0];
		const histogram = r && Number(r.n) > 0 ? r.hist.map(Number) : [];
		const maxMs = r && Number(r.n) > 0 ? Number(r.max_ms ?? 0) : 0;
		return histogramResult(histogram, maxMs);
	}

	async #rows<T>(query: string): Promise<T[]> {
		return (await this.#client.query({ query, format: 'JSONEachRow' })).json<T>();
	}
}

function filterHostPid(q: RequestFilter, parts: string[]): void {
	if (q.host !== undefined) parts.push(`host = ${str(q.host)}`);
	if (q.pid !== undefined) parts.push(`pid = ${num(q.pid)}`);
}
