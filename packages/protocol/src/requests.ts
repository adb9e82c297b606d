import { z } from 'zod';
import { limits } from './limits.ts';
import type { MessageKind } from './queue-class.ts';
import { MAX_TIMESTAMP_MS, commSchema, countSchema, hostSchema, pidSchema, timestampSchema, windowFields } from './profile-window.ts';

/** Requests in one batch message: a busy second goes out as several batches. */
export const MAX_REQUESTS_PER_BATCH = 2_000;
/**
 * Requests a collector sends a second at most, in batches of MAX_REQUESTS_PER_BATCH: 5,000
 * requests/s traced on both sides are 10,000 records, and twice that is headroom. What a busy
 * second has past it is counted in `omitted` (and `tls.requestsNotSent`), not sent.
 */
export const MAX_REQUESTS_PER_SECOND = 20_000;
/**
 * What a batch of requests may weigh by requestWireWeight, half the hub's largest message
 * (limits.maxMessageBytes): 2,000 requests with bodies kept (`--capture-bodies`) would not fit one.
 */
export const MAX_REQUEST_BATCH_WEIGHT = limits.maxMessageBytes / 2;

/**
 * An upper bound on a request's bytes in a JSON message, cheap to take: every character of its
 * strings counted six times (the most JSON's escapes make of one), plus its fixed fields.
 */
export function requestWireWeight(r: RequestRecord): number {
	let chars = r.path.length + r.endpoint.length + r.comm.length + (r.requestBody?.length ?? 0) + (r.responseBody?.length ?? 0);
	for (const [n, v] of r.requestHeaders) chars += n.length + v.length + 8;
	for (const [n, v] of r.responseHeaders) chars += n.length + v.length + 8;
	return 6 * chars + 1024;
}

/** Endpoint rows (pid, role, method, template) in one stored window. */
export const MAX_ENDPOINTS_PER_WINDOW = 100_000;
/** Log2 latency buckets in microseconds: bucket i holds [2^i, 2^(i+1)) µs, bucket 0 also < 1 µs. */
export const REQUEST_LATENCY_BUCKETS = 32;

const msSchema = z.number().min(0).max(1e12);
/** Fractional epoch ms: requests within one millisecond keep their order. */
const preciseTimeSchema = z.number().min(0).max(MAX_TIMESTAMP_MS);
const headerSchema = z.tuple([z.string().max(limits.shortString), z.string().max(8192)]);
const headersSchema = z.array(headerSchema).max(256);
const addressSchema = z.string().max(64).nullable();
const roleSchema = z.enum(['client', 'server']);
const methodSchema = z.string().max(32);
/** Path template (ids and numbers collapsed), no query. */
const endpointSchema = z.string().max(8192);

/**
 * One HTTP/1.x request seen in TLS plaintext. The collector redacts before sending
 * (Authorization, Proxy-Authorization, Cookie and Set-Cookie values, query strings);
 * the hub stores and serves it as received.
 */
export const requestRecordSchema = z.object({
	/** Epoch ms of the first request byte. */
	ts: preciseTimeSchema,
	pid: pidSchema,
	comm: commSchema,
	/** Whether the process sent the request (client) or answered it (server). */
	role: roleSchema,
	method: methodSchema,
	/** The request target, query values redacted. */
	path: z.string().max(8192),
	endpoint: endpointSchema,
	status: z.number().int().min(0).max(999),
	/** First request byte to last response byte, from kernel timestamps. */
	latencyMs: msSchema,
	/** Wire bytes (head and body) of the request and of the response. */
	reqBytes: countSchema,
	respBytes: countSchema,
	/** `address:port`, or null when the socket could not be tied to the TLS session. */
	local: addressSchema,
	remote: addressSchema,
	/** `pid:fd:generation`, stable for the life of the connection; null when the socket is unknown. */
	connection: z.string().max(limits.shortString).nullable(),
	/** `bootId:seq` of the collector, shared with the profile samples attributed to this request; absent when not attributed. */
	requestId: z.string().max(limits.shortString).optional(),
	httpVersion: z.string().max(16),
	requestHeaders: headersSchema,
	responseHeaders: headersSchema,
	/** Only for processes the collector was told to keep bodies of (`--capture-bodies`), capped. */
	requestBody: z
		.string()
		.max(1 << 20)
		.optional(),
	responseBody: z
		.string()
		.max(1 << 20)
		.optional(),
});
export type RequestRecord = z.infer<typeof requestRecordSchema>;

/** The requests a collector saw since its previous batch (about a second). */
export const requestBatchSchema = z.object({
	host: hostSchema,
	ts: timestampSchema,
	requests: z.array(requestRecordSchema).max(MAX_REQUESTS_PER_BATCH),
	/** Requests seen but left out since the previous batch (over the collector's MAX_REQUESTS_PER_SECOND). */
	omitted: countSchema,
});
export type RequestBatch = z.infer<typeof requestBatchSchema>;

export const requestStatsSchema = z.object({
	count: countSchema,
	/** 5xx responses. */
	errors: countSchema,
	/** 4xx responses. */
	clientErrors: countSchema,
	reqBytes: countSchema,
	respBytes: countSchema,
	sumLatencyMs: msSchema,
	maxLatencyMs: msSchema,
	p50Ms: msSchema,
	p90Ms: msSchema,
	p99Ms: msSchema,
	/** REQUEST_LATENCY_BUCKETS log2 µs bucket counts. */
	histogram: z.array(countSchema).length(REQUEST_LATENCY_BUCKETS),
});
export type RequestStats = z.infer<typeof requestStatsSchema>;

const processFields = { pid: pidSchema, comm: commSchema };

export const processRequestStatsSchema = requestStatsSchema.extend(processFields);
export type ProcessRequestStats = z.infer<typeof processRequestStatsSchema>;

export const endpointRequestStatsSchema = requestStatsSchema.extend({
	...processFields,
	role: roleSchema,
	method: methodSchema,
	endpoint: endpointSchema,
});
export type EndpointRequestStats = z.infer<typeof endpointRequestStatsSchema>;

/** One window of per-process and per-endpoint request aggregates: what the hub stores. */
export const requestWindowSchema = z.object({
	...windowFields,
	processes: z.array(processRequestStatsSchema).max(limits.processesPerSnapshot),
	endpoints: z.array(endpointRequestStatsSchema).max(MAX_ENDPOINTS_PER_WINDOW),
});
export type RequestWindow = z.infer<typeof requestWindowSchema>;

/** Collector → hub: requests seen since the previous batch. */
export const requestsMessageSchema = z.object({
	type: z.literal('requests'),
	batch: requestBatchSchema,
});
export type RequestsMessage = z.infer<typeof requestsMessageSchema>;
/** Bounded and short-lived like a snapshot: under pressure batches go first (counted). */
export const requestsMessageKind = { queue: 'live', payload: 'batch' } as const satisfies MessageKind;

/** Collector → hub: one window of request aggregates, to store. */
export const requestWindowMessageSchema = z.object({
	type: z.literal('requestWindow'),
	window: requestWindowSchema,
});
export type RequestWindowMessage = z.infer<typeof requestWindowMessageSchema>;
export const requestWindowMessageKind = { queue: 'window', payload: 'window' } as const satisfies MessageKind;

/** A request as the live table shows it: no headers or bodies (tRPC serves those). */
export const liveRequestSchema = requestRecordSchema.omit({
	requestHeaders: true,
	responseHeaders: true,
	requestBody: true,
	responseBody: true,
});
export type LiveRequest = z.infer<typeof liveRequestSchema>;

/** Hub → browser: a host's new requests. */
export const liveRequestsMessageSchema = z.object({
	type: z.literal('requests'),
	host: hostSchema,
	ts: timestampSchema,
	requests: z.array(liveRequestSchema).max(MAX_REQUESTS_PER_BATCH),
	omitted: countSchema,
});
export type LiveRequestsMessage = z.infer<typeof liveRequestsMessageSchema>;
