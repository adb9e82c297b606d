import type { MessageId, RequestBatch, RequestRecord, RequestWindow } from '@firesight/protocol';

/** A stored request with the host whose collector saw it. */
export interface StoredRequest extends RequestRecord {
	host: string;
}

export interface RequestFilter {
	host?: string | undefined;
	pid?: number | undefined;
}

export interface RequestListQuery extends RequestFilter {
	/** Requests whose first byte is at or after this, epoch ms. */
	sinceMs: number;
	/** Before this; no bound when absent. */
	untilMs?: number | undefined;
	limit: number;
}

export interface EndpointQuery extends RequestFilter {
	/** Windows starting in [fromMs, toMs). */
	fromMs: number;
	toMs: number;
}

export interface HistogramQuery extends EndpointQuery {
	endpoint: string;
	method?: string | undefined;
	role?: 'client' | 'server' | undefined;
}

/** One endpoint (host, pid, role, method, path template) merged over the queried windows. */
export interface EndpointSummary {
	host: string;
	pid: number;
	comm: string;
	role: 'client' | 'server';
	method: string;
	endpoint: string;
	count: number;
	/** count over the time the windows in range cover, per second. */
	ratePerSec: number;
	errors: number;
	clientErrors: number;
	/** 5xx / count. */
	errorRate: number;
	reqBytes: number;
	respBytes: number;
	meanMs: number;
	maxMs: number;
	/** From the merged log2 histogram (interpolated inside a bucket). */
	p50Ms: number;
	p90Ms: number;
	p99Ms: number;
	histogram: number[];
}

export interface EndpointsResult {
	/** Time covered by the windows in range, ms (0 when none). */
	coveredMs: number;
	windows: number;
	endpoints: EndpointSummary[];
}

export interface HistogramBucket {
	index: number;
	lowMs: number;
	highMs: number;
	count: number;
}

export interface HistogramResult {
	count: number;
	p50Ms: number;
	p90Ms: number;
	p99Ms: number;
	maxMs: number;
	/** Every bucket from the first to the last non-empty one (empty result: none). */
	buckets: HistogramBucket[];
}

/** HTTPS requests (as the collector redacted them) and per-window endpoint aggregates. */
export interface RequestStore {
	/** Stores a batch exactly as received (already redacted); resolves once durable. */
	insertBatch(batch: RequestBatch): Promise<void>;
	/**
	 * Stores one window's endpoint aggregates; resolves once durable. With the collector
	 * message's `id`, the id goes into the same write (see IngestLedger).
	 */
	insertWindow(window: RequestWindow, id?: MessageId): Promise<void>;
	/** Requests whose first byte is in [sinceMs, untilMs), oldest first, at most `limit`. */
	list(query: RequestListQuery): Promise<StoredRequest[]>;
	/**
	 * Per (host, pid, role, method, endpoint), merged over the windows starting in the range:
	 * counts, rate over the time those windows cover, percentiles from the summed histograms.
	 * Most requests first.
	 */
	endpoints(query: EndpointQuery): Promise<EndpointsResult>;
	/** One endpoint's latency histogram summed over the windows starting in the range. */
	histogram(query: HistogramQuery): Promise<HistogramResult>;
}
