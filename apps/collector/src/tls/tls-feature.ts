import {
	MAX_REQUESTS_PER_BATCH,
	MAX_REQUESTS_PER_SECOND,
	MAX_REQUEST_BATCH_WEIGHT,
	requestWireWeight,
	type ProcessRow,
	type RequestRecord,
	type RequestWindow,
} from '@firesight/protocol';
import type { Feature, FeatureContext, FeatureDefinition } from '../feature.ts';
import type { RequestAttribution, RequestAttributionStats } from '../request-attribution.ts';
import type { RequestAggregates } from './request-aggregates.ts';
import { TlsCapture, type TlsCaptureCounters } from './tls-capture.ts';

/** What the agent needs of a TlsCapture (tests pass a fake). */
export interface TlsCaptureLike extends Pick<TlsCapture, 'start' | 'stop' | 'drainAggregates' | 'counters'> {
	on(event: 'request', listener: (r: RequestRecord) => void): unknown;
	on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface TlsFeatureOptions {
	/** Processes whose bodies are kept (capped): `--capture-bodies PID`. */
	captureBodies?: readonly number[];
	/** Requests in one batch message at most (MAX_REQUESTS_PER_BATCH, the wire's bound, by default and at most). */
	maxBatch?: number;
	/**
	 * Requests sent a second at most, as several batches (MAX_REQUESTS_PER_SECOND by default):
	 * what a busier second has past it is counted (`requestsNotSent`), not sent.
	 */
	maxPerSecond?: number;
	/**
	 * A captured request goes out at most this long after it completed, in a batch with those
	 * that came with it, rather than waiting for the agent's tick: the Requests page shows a
	 * request within a second of its response. Default 50 ms.
	 */
	flushMs?: number;
	/** Span over which the process table's p99 is taken. Default 10 s. */
	p99SpanMs?: number;
	/** Shared with the profiling feature: the requests its samples are labelled with. */
	attribution?: RequestAttribution;
	/** For tests: instead of loading the BPF program. */
	create?: (opts: { captureBodies: readonly number[] }) => TlsCaptureLike;
	now?: () => number;
}

const round = (ms: number) => Math.max(0, Math.round(ms));
/** Requests kept for the process table's p99 (the last ones, whatever the span). */
const RECENT_MAX = 50_000;

/** A window of aggregates for the wire: endpoint names clipped to the protocol's bounds. */
export function toWireRequestWindow(host: string, a: RequestAggregates): RequestWindow {
	return {
		...a,
		host,
		endpoints: a.endpoints.map((e) => ({ ...e, method: e.method.slice(0, 32), endpoint: e.endpoint.slice(0, 8192) })),
	};
}

const MAX_HEADERS = 256;
const MAX_HEADER_NAME = 256;
const MAX_HEADER_VALUE = 8192;
const MAX_BODY = 1 << 20;

function headersWithinBounds(h: readonly [string, string][]): boolean {
	if (h.length > MAX_HEADERS) return false;
	for (const [n, v] of h) if (n.length > MAX_HEADER_NAME || v.length > MAX_HEADER_VALUE) return false;
	return true;
}

function clipHeaders(h: readonly [string, string][]): [string, string][] {
	return h.slice(0, MAX_HEADERS).map(([n, v]): [string, string] => [n.slice(0, MAX_HEADER_NAME), v.slice(0, MAX_HEADER_VALUE)]);
}

/**
 * A captured request in wire form (already redacted by TlsCapture), clipped to the protocol's
 * bounds. Almost every request is within them: that one is returned as it is, not copied, since
 * a copy per request was a good part of the collector's CPU per request.
 */
export function toWireRequest(r: RequestRecord): RequestRecord {
	if (
		r.ts >= 0 &&
		r.status >= 0 &&
		r.status <= 999 &&
		r.latencyMs >= 0 &&
		r.method.length <= 32 &&
		r.path.length <= 8192 &&
		r.endpoint.length <= 8192 &&
		r.httpVersion.length <= 16 &&
		(r.requestBody === undefined || r.requestBody.length <= MAX_BODY) &&
		(r.responseBody === undefined || r.responseBody.length <= MAX_BODY) &&
		headersWithinBounds(r.requestHeaders) &&
		headersWithinBounds(r.responseHeaders)
	) {
		return r;
	}
	const out: RequestRecord = {
		ts: Math.max(0, r.ts),
		pid: r.pid,
		comm: r.comm,
		role: r.role,
		method: r.method.slice(0, 32),
		path: r.path.slice(0, 8192),
		endpoint: r.endpoint.slice(0, 8192),
		status: Math.min(999, Math.max(0, r.status)),
		latencyMs: Math.max(0, r.latencyMs),
		reqBytes: r.reqBytes,
		respBytes: r.respBytes,
		local: r.local,
		remote: r.remote,
		connection: r.connection,
		...(r.requestId !== undefined ? { requestId: r.requestId } : {}),
		httpVersion: r.httpVersion.slice(0, 16),
		requestHeaders: clipHeaders(r.requestHeaders),
		responseHeaders: clipHeaders(r.responseHeaders),
	};
	if (r.requestBody !== undefined) out.requestBody = r.requestBody.slice(0, MAX_BODY);
	if (r.responseBody !== undefined) out.responseBody = r.responseBody.slice(0, MAX_BODY);
	return out;
}

/** Loss counters only (calls and bytes are throughput, not loss), under the decoder's names. */
export function tlsDrops(c: TlsCaptureCounters, omitted: number, attribution?: RequestAttributionStats): Record<string, number> {
	const out: Record<string, number> = {};
	for (const name of [
		'dataLost',
		'controlLost',
		'truncated',
		'readFailed',
		'noEntry',
		'activeFull',
		'connFull',
		'requestContextFull',
		'requestSlotsFull',
		'responseUnmatched',
		'threadsFull',
		'streamDropped',
		'decodeErrors',
	] as const) {
		out[name] = c.kernel[name] ?? 0;
	}
	out.attachFailures = c.discovery.attachFailures;
	out.connectionsEvicted = c.connections.evicted;
	// HTTP/1 reassembly in the addon: streams it could not follow, requests it could not pair.
	for (const name of ['parseErrors', 'desyncs', 'skippedBytes', 'unpairedResponses', 'unansweredRequests', 'pendingDropped'] as const) {
		out[name] = c.connections[name];
	}
	out.requestsNotSent = omitted;
	if (attribution) {
		out.samplesUnattributed = attribution.samplesUnattributed;
		out.requestsForgotten = attribution.requestsForgotten;
		out.samplesLifetimeCut = attribution.samplesLifetimeCut;
	}
	return out;
}

function quantile99(sorted: readonly number[]): number {
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(0.99 * sorted.length) - 1))] ?? 0;
}

/**
 * HTTPS requests seen in TLS plaintext: a batch of new requests each tick, requests/s and p99 in
 * the process rows, per-process and per-endpoint aggregates per window.
 */
export function tlsFeature(options: TlsFeatureOptions = {}): FeatureDefinition {
	return { name: 'tls', title: 'HTTPS request capture', start: (context) => startTls(options, context) };
}

function startTls(options: TlsFeatureOptions, { host, send, log }: FeatureContext): Feature {
	const now = options.now ?? Date.now;
	const maxBatch = Math.max(1, Math.min(options.maxBatch ?? MAX_REQUESTS_PER_BATCH, MAX_REQUESTS_PER_BATCH));
	const maxPerSecond = options.maxPerSecond ?? MAX_REQUESTS_PER_SECOND;
	const flushMs = options.flushMs ?? 50;
	const spanMs = options.p99SpanMs ?? 10_000;
	const captureBodies = options.captureBodies ?? [];
	const attribution = options.attribution;
	const cap: TlsCaptureLike =
		options.create?.({ captureBodies }) ?? new TlsCapture({ captureBodies, ...(attribution ? { attribution } : {}) });
	cap.start();
	let pending: RequestRecord[] = [];
	/** requestWireWeight of what is pending: with bodies kept, fewer than maxBatch fill a message. */
	let pendingWeight = 0;
	/**
	 * Requests that may still go out: a token bucket refilled at maxPerSecond a second, holding a
	 * second's worth at most, so a burst of up to a second's budget goes out whole and a steady
	 * rate under the budget is never cut, however ticks and ring-buffer drains fall.
	 */
	let allowance = maxPerSecond;
	let allowanceAt = now();
	let flushTimer: NodeJS.Timeout | undefined;
	let omitted = 0;
	let omittedTotal = 0;
	let perTick = new Map<number, number>();
	let tickStart = now();
	let rates = new Map<number, number>();
	// (time seen, pid, latency) of the last RECENT_MAX requests, for the process table's p99 over
	// the last span: columns in a ring, not an object per request for the collector to keep.
	const recentAt = new Float64Array(RECENT_MAX);
	const recentPid = new Uint32Array(RECENT_MAX);
	const recentLatency = new Float64Array(RECENT_MAX);
	let recentNext = 0;
	let recentCount = 0;
	let errorLogged = false;
	let stopped = false;
	let lastBatchTs = 0;

	cap.on('request', (r) => {
		perTick.set(r.pid, (perTick.get(r.pid) ?? 0) + 1);
		const t = now();
		recentAt[recentNext] = t;
		recentPid[recentNext] = r.pid;
		recentLatency[recentNext] = r.latencyMs;
		recentNext = (recentNext + 1) % RECENT_MAX;
		recentCount = Math.min(RECENT_MAX, recentCount + 1);
		allowance = Math.min(maxPerSecond, allowance + ((t - allowanceAt) / 1000) * maxPerSecond);
		allowanceAt = t;
		if (allowance < 1) {
			omitted++;
			omittedTotal++;
			return;
		}
		allowance--;
		const wire = toWireRequest(r);
		const weight = requestWireWeight(wire);
		if (pending.length > 0 && pendingWeight + weight > MAX_REQUEST_BATCH_WEIGHT) flush();
		pending.push(wire);
		pendingWeight += weight;
		// A full batch goes now: waiting for the timer would only hold more in memory.
		if (pending.length >= maxBatch) return flush();
		// Requests come a ring-buffer drain at a time: one timer per drain sends them together.
		if (!flushTimer && !stopped) {
			flushTimer = setTimeout(flush, flushMs);
			flushTimer.unref();
		}
	});
	cap.on('error', (err) => {
		// A decode or discovery problem repeats with every event; once is enough.
		if (!errorLogged) log(`HTTPS capture: ${err.message}`);
		errorLogged = true;
	});

	/** Sends what is pending, if anything, in batches of maxBatch at most. */
	function flush(): void {
		if (flushTimer) clearTimeout(flushTimer);
		flushTimer = undefined;
		if (stopped || (pending.length === 0 && omitted === 0)) return;
		for (let i = 0; i === 0 || i < pending.length; i += maxBatch) {
			// Strictly increasing per host: browsers drop a backfilled batch at or before their cursor.
			lastBatchTs = Math.max(lastBatchTs + 1, round(now()));
			send({ type: 'requests', batch: { host, ts: lastBatchTs, requests: pending.slice(i, i + maxBatch), omitted } });
			omitted = 0;
		}
		pending = [];
		pendingWeight = 0;
	}
	const sendBatch = () => {
		const t = now();
		const seconds = Math.max(0.001, (t - tickStart) / 1000);
		rates = new Map([...perTick].map(([pid, n]) => [pid, n / seconds]));
		perTick = new Map();
		tickStart = t;
		flush();
	};
	const sendWindow = () => {
		const w = cap.drainAggregates();
		if (w.endpoints.length && !stopped) send({ type: 'requestWindow', window: toWireRequestWindow(host, w) });
	};

	return {
		tick: sendBatch,
		processRows(rows) {
			const cutoff = now() - spanMs;
			const byPid = new Map<number, number[]>();
			for (let k = 0; k < recentCount; k++) {
				const i = (recentNext - recentCount + k + RECENT_MAX) % RECENT_MAX;
				if (recentAt[i]! < cutoff) continue;
				const pid = recentPid[i]!;
				let list = byPid.get(pid);
				if (!list) byPid.set(pid, (list = []));
				list.push(recentLatency[i]!);
			}
			return rows.map((row) => {
				const latencies = byPid.get(row.pid);
				const out: ProcessRow = { ...row, requestsPerSec: rates.get(row.pid) ?? 0 };
				if (latencies) out.p99Ms = Math.max(0, quantile99(latencies.sort((a, b) => a - b)));
				return out;
			});
		},
		drops: () => tlsDrops(cap.counters(), omittedTotal, attribution?.stats),
		window: sendWindow,
		async stop() {
			// Ends open connections first: a response that runs until close completes.
			cap.stop();
			sendBatch();
			sendWindow();
			stopped = true;
		},
	};
}
