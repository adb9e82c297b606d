import { totalWeight } from '@firesight/profile';
import type { EndpointRequestStats, RequestRecord, RequestWindow, RetransmitWindow, WindowConnection } from '@firesight/protocol';
import {
	MAX_SERIES_BUCKETS,
	type ConnectionRetransmits,
	type RetransmitSeries,
	type RetransmitSeriesResult,
	type SeriesQuery,
} from './connection-store.ts';
import type { StoredRequest } from './request-store.ts';
import { newShareId, type NewShare, type ShareSummary } from './share-store.ts';

// Both backends name their columns alike, so one mapping reads either's rows. ClickHouse sends
// 64-bit integers as strings: a number column may be either, and goes through Number().
type Num = number | string;

/** A request's row as both backends store it (ClickHouse adds its day and insertion seq). */
export function requestColumns(host: string, r: RequestRecord) {
	return {
		host,
		ts: r.ts,
		pid: r.pid,
		comm: r.comm,
		role: r.role,
		method: r.method,
		path: r.path,
		endpoint: r.endpoint,
		status: r.status,
		latency_ms: r.latencyMs,
		req_bytes: r.reqBytes,
		resp_bytes: r.respBytes,
		local: r.local,
		remote: r.remote,
		connection: r.connection,
		http_version: r.httpVersion,
		request_headers: JSON.stringify(r.requestHeaders),
		response_headers: JSON.stringify(r.responseHeaders),
		request_body: r.requestBody ?? null,
		response_body: r.responseBody ?? null,
		request_id: r.requestId ?? null,
	};
}

/** One endpoint's aggregate row of a request window; the histogram is the backend's to encode. */
export function endpointColumns(w: RequestWindow, e: EndpointRequestStats) {
	return {
		host: w.host,
		start_ms: w.startMs,
		duration_ms: w.durationMs,
		pid: e.pid,
		comm: e.comm,
		role: e.role,
		method: e.method,
		endpoint: e.endpoint,
		count: e.count,
		errors: e.errors,
		client_errors: e.clientErrors,
		req_bytes: e.reqBytes,
		resp_bytes: e.respBytes,
		sum_latency_ms: e.sumLatencyMs,
		max_latency_ms: e.maxLatencyMs,
	};
}

/** One connection's row of a retransmit window. */
export function connectionColumns(w: RetransmitWindow, c: WindowConnection) {
	return {
		host: w.host,
		start_ms: w.startMs,
		duration_ms: w.durationMs,
		cookie: c.cookie,
		pid: c.pid,
		comm: c.comm,
		family: c.family,
		saddr: c.saddr,
		sport: c.sport,
		daddr: c.daddr,
		dport: c.dport,
		retransmits: c.retransmits,
		state: c.state,
		first_ms: c.firstRetransmitAt,
		last_ms: c.lastRetransmitAt,
	};
}

export const requestRole = (r: string): 'client' | 'server' => (r === 'client' ? 'client' : 'server');

/** A stored request's row. */
export interface RequestRow {
	host: string;
	ts: Num;
	pid: Num;
	comm: string;
	role: string;
	method: string;
	path: string;
	endpoint: string;
	status: Num;
	latency_ms: Num;
	req_bytes: Num;
	resp_bytes: Num;
	local: string | null;
	remote: string | null;
	connection: string | null;
	http_version: string;
	request_headers: string;
	response_headers: string;
	request_body: string | null;
	response_body: string | null;
	/** Absent or null in rows stored before requests kept it. */
	request_id?: string | null;
}

export function storedRequestOf(r: RequestRow): StoredRequest {
	const out: StoredRequest = {
		host: r.host,
		ts: Number(r.ts),
		pid: Number(r.pid),
		comm: r.comm,
		role: requestRole(r.role),
		method: r.method,
		path: r.path,
		endpoint: r.endpoint,
		status: Number(r.status),
		latencyMs: Number(r.latency_ms),
		reqBytes: Number(r.req_bytes),
		respBytes: Number(r.resp_bytes),
		local: r.local,
		remote: r.remote,
		connection: r.connection,
		httpVersion: r.http_version,
		requestHeaders: JSON.parse(r.request_headers) as [string, string][],
		responseHeaders: JSON.parse(r.response_headers) as [string, string][],
	};
	if (r.request_body !== null) out.requestBody = r.request_body;
	if (r.response_body !== null) out.responseBody = r.response_body;
	if (r.request_id !== null && r.request_id !== undefined) out.requestId = r.request_id;
	return out;
}

/**
 * One connection's windows merged: sums, the newest comm and state. The names differ from the
 * columns' because ClickHouse resolves a name to its alias first.
 */
export interface ConnectionRow {
	host: string;
	cookie: string;
	pid: Num;
	newest_comm: string;
	family: Num;
	saddr: string;
	sport: Num;
	daddr: string;
	dport: Num;
	total: Num;
	newest_state: string;
	first_at: Num | null;
	last_at: Num | null;
}

export function connectionOf(r: ConnectionRow): ConnectionRetransmits {
	return {
		host: r.host,
		cookie: r.cookie,
		pid: Number(r.pid),
		comm: r.newest_comm,
		family: Number(r.family) === 6 ? 6 : 4,
		saddr: r.saddr,
		sport: Number(r.sport),
		daddr: r.daddr,
		dport: Number(r.dport),
		retransmits: Number(r.total),
		state: r.newest_state,
		firstRetransmitAt: r.first_at === null ? null : Number(r.first_at),
		lastRetransmitAt: r.last_at === null ? null : Number(r.last_at),
	};
}

/**
 * The buckets a series query is answered in: `stepMs` grown so there are at most
 * MAX_SERIES_BUCKETS, starting at a multiple of it; a row's `bucket` counts from `startMs`.
 */
export function seriesBuckets(q: SeriesQuery): { stepMs: number; startMs: number } {
	if (!(q.stepMs > 0)) throw new RangeError(`stepMs must be positive, got ${q.stepMs}`);
	const stepMs = Math.max(q.stepMs, Math.ceil((q.toMs - q.fromMs) / MAX_SERIES_BUCKETS));
	return { stepMs, startMs: Math.floor(q.fromMs / stepMs) * stepMs };
}

/** Retransmits of one process in one bucket (any of its comms), oldest bucket first. */
export interface SeriesRow {
	host: string;
	pid: Num;
	any_comm: string;
	bucket: Num;
	total: Num;
}

export function retransmitSeriesOf(
	rows: readonly SeriesRow[],
	{ stepMs, startMs }: { stepMs: number; startMs: number },
): RetransmitSeriesResult {
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

export const SHARE_SUMMARY_COLUMNS = 'id, created_ms, creator, source, view_state, total_samples, stacks';

/** A share's row without its profile. */
export interface ShareRow {
	id: string;
	created_ms: Num;
	creator: string | null;
	source: string;
	view_state: string | null;
	total_samples: Num;
	stacks: Num;
}

export function shareSummaryOf(row: ShareRow): ShareSummary {
	return {
		id: row.id,
		createdMs: Number(row.created_ms),
		creator: row.creator,
		source: JSON.parse(row.source) as ShareSummary['source'],
		viewState: row.view_state === null ? null : (JSON.parse(row.view_state) as ShareSummary['viewState']),
		totalSamples: Number(row.total_samples),
		stacks: Number(row.stacks),
	};
}

/** The summary a new share is stored with: a fresh id, the time, and its profile's totals. */
export function newShareSummary(share: NewShare, createdMs: number): ShareSummary {
	return {
		id: newShareId(),
		createdMs,
		creator: share.creator,
		source: share.source,
		viewState: share.viewState,
		totalSamples: totalWeight(share.profile),
		stacks: share.profile.samples.length,
	};
}
