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

/**
 * Request `i` of a long stream at `ts`: `GET /items/<i>?q=…` with its connection and a header
 * each way, a few hundred bytes on the wire, for tests that fill queues and sockets.
 */
export function streamRequest(i: number, ts: number): RequestRecord {
	return requestRecord({
		ts,
		pid: 7,
		path: `/items/${i}?q=${'x'.repeat(40)}`,
		endpoint: '/items/:id',
		latencyMs: 1.5,
		reqBytes: 100,
		respBytes: 2000,
		local: '127.0.0.1:8443',
		remote: '127.0.0.1:40000',
		connection: '7:21:1',
		requestHeaders: [['Accept', 'text/plain']],
		responseHeaders: [['Content-Type', 'text/plain']],
	});
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
