import { REQUEST_LATENCY_BUCKETS, type EndpointRequestStats, type RequestRecord } from '@firesight/protocol';

/** A served `GET /a` of 1 ms, nothing about its connection known; `over` changes any field. */
export function requestRecord(over: Partial<RequestRecord> = {}): RequestRecord {
	return {
		ts: 1000,
		pid: 10,
		comm: 'node',
		role: 'server',
		method: 'GET',
		path: '/a',
		endpoint: '/a',
		status: 200,
		latencyMs: 1,
		reqBytes: 10,
		respBytes: 20,
		local: null,
		remote: null,
		connection: null,
		httpVersion: '1.1',
		requestHeaders: [],
		responseHeaders: [],
		...over,
	};
}

/** A latency histogram with `entries` as bucket → count, the rest empty. */
export function latencyHistogram(entries: Record<number, number> = {}): number[] {
	const h = new Array<number>(REQUEST_LATENCY_BUCKETS).fill(0);
	for (const [i, n] of Object.entries(entries)) h[Number(i)] = n;
	return h;
}

/** An endpoint of a request window with no requests yet; `over` changes any field. */
export function endpointStats(over: Partial<EndpointRequestStats> = {}): EndpointRequestStats {
	return {
		pid: 10,
		comm: 'node',
		role: 'server',
		method: 'GET',
		endpoint: '/users/:id',
		count: 0,
		errors: 0,
		clientErrors: 0,
		reqBytes: 0,
		respBytes: 0,
		sumLatencyMs: 0,
		maxLatencyMs: 0,
		p50Ms: 0,
		p90Ms: 0,
		p99Ms: 0,
		histogram: latencyHistogram(),
		...over,
	};
}
