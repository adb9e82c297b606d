import {
	REQUEST_LATENCY_BUCKETS,
	limits,
	type EndpointRequestStats,
	type RequestRecord,
	type RequestStats,
	type RequestWindow,
} from '@firesight/protocol';

/** One window of aggregates as the wire carries it, less the host. */
export type RequestAggregates = Omit<RequestWindow, 'host'>;

const SAMPLE_SIZE = 2048;

class StatsBuilder {
	count = 0;
	errors = 0;
	clientErrors = 0;
	reqBytes = 0;
	respBytes = 0;
	sumLatencyMs = 0;
	maxLatencyMs = 0;
	histogram = new Array<number>(REQUEST_LATENCY_BUCKETS).fill(0);
	sample: number[] = [];

	add(r: RequestRecord): void {
		this.count++;
		if (r.status >= 500) this.errors++;
		else if (r.status >= 400) this.clientErrors++;
		this.reqBytes += r.reqBytes;
		this.respBytes += r.respBytes;
		this.sumLatencyMs += r.latencyMs;
		this.maxLatencyMs = Math.max(this.maxLatencyMs, r.latencyMs);
		this.histogram[latencyBucket(r.latencyMs)]!++;
		// Reservoir sampling: every latency has the same chance to be in the sample.
		if (this.sample.length < SAMPLE_SIZE) this.sample.push(r.latencyMs);
		else {
			const j = Math.floor(Math.random() * this.count);
			if (j < SAMPLE_SIZE) this.sample[j] = r.latencyMs;
		}
	}

	build(): RequestStats {
		const sorted = [...this.sample].sort((a, b) => a - b);
		return {
			count: this.count,
			errors: this.errors,
			clientErrors: this.clientErrors,
			reqBytes: this.reqBytes,
			respBytes: this.respBytes,
			// Kernel timestamps from two CPUs can put a response a hair before its request.
			sumLatencyMs: Math.max(0, this.sumLatencyMs),
			maxLatencyMs: Math.max(0, this.maxLatencyMs),
			p50Ms: Math.max(0, quantile(sorted, 0.5)),
			p90Ms: Math.max(0, quantile(sorted, 0.9)),
			p99Ms: Math.max(0, quantile(sorted, 0.99)),
			histogram: [...this.histogram],
		};
	}
}

export function latencyBucket(ms: number): number {
	const us = ms * 1000;
	if (!(us >= 2)) return 0;
	return Math.min(REQUEST_LATENCY_BUCKETS - 1, Math.floor(Math.log2(us)));
}

/** Nearest-rank quantile of sorted values; 0 for none. */
export function quantile(sorted: readonly number[], q: number): number {
	if (sorted.length === 0) return 0;
	const rank = Math.ceil(q * sorted.length);
	return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

interface EndpointEntry {
	key: Omit<EndpointRequestStats, keyof RequestStats>;
	stats: StatsBuilder;
}

interface ProcessEntry {
	comm: string;
	stats: StatsBuilder;
	endpoints: number;
	/**
	 * Rows by endpoint template, then (role, method) among the few of each: the template is the
	 * same string object request after request (the capture keeps it), so its hash is computed
	 * once, where a key joined per request was built and hashed every time.
	 */
	byEndpoint: Map<string, EndpointEntry[]>;
}

function findEndpoint(proc: ProcessEntry, role: string, method: string, endpoint: string): EndpointEntry | undefined {
	const rows = proc.byEndpoint.get(endpoint);
	if (rows) for (const e of rows) if (e.key.method === method && e.key.role === role) return e;
	return undefined;
}

/**
 * Request counts, error rates and latency distributions per process and per endpoint
 * (pid, role, method, path template) over a window; drain() returns the window and starts the next.
 */
export class RequestAggregator {
	#since = Date.now();
	#processes = new Map<number, ProcessEntry>();
	/** Every endpoint row of the window, in the order they were first seen. */
	#endpoints: EndpointEntry[] = [];
	#maxEndpoints: number;

	constructor(opts: { maxEndpointsPerProcess?: number } = {}) {
		this.#maxEndpoints = opts.maxEndpointsPerProcess ?? 500;
	}

	add(r: RequestRecord): void {
		let proc = this.#processes.get(r.pid);
		if (!proc) {
			proc = { comm: r.comm, stats: new StatsBuilder(), endpoints: 0, byEndpoint: new Map() };
			this.#processes.set(r.pid, proc);
		}
		proc.stats.add(r);
		let ep = findEndpoint(proc, r.role, r.method, r.endpoint);
		if (!ep) {
			const endpoint = proc.endpoints >= this.#maxEndpoints ? '(other)' : r.endpoint;
			if (endpoint !== r.endpoint) ep = findEndpoint(proc, r.role, r.method, endpoint);
			if (!ep) {
				ep = { key: { pid: r.pid, comm: r.comm, role: r.role, method: r.method, endpoint }, stats: new StatsBuilder() };
				const rows = proc.byEndpoint.get(endpoint);
				if (rows) rows.push(ep);
				else proc.byEndpoint.set(endpoint, [ep]);
				this.#endpoints.push(ep);
				proc.endpoints++;
			}
		}
		ep.stats.add(r);
	}

	/** The window so far, without ending it. */
	snapshot(): RequestAggregates {
		return this.#window(Date.now());
	}

	#window(until: number): RequestAggregates {
		const startMs = Math.round(this.#since);
		return {
			startMs,
			durationMs: Math.min(limits.maxWindowMs, Math.max(1, Math.round(until) - startMs)),
			processes: [...this.#processes].map(([pid, p]) => ({ pid, comm: p.comm, ...p.stats.build() })),
			endpoints: this.#endpoints.map((e) => ({ ...e.key, ...e.stats.build() })),
		};
	}

	/** The window so far; the next one starts now. */
	drain(): RequestAggregates {
		const until = Date.now();
		const out = this.#window(until);
		this.#since = until;
		this.#processes.clear();
		this.#endpoints = [];
		return out;
	}
}
