import { findPreset, parsePid, parseTime, type RangePresetId, type TimeRange } from './profile-query.ts';

/**
 * "CPU of this endpoint" and "CPU during this request": the samples the TLS capture attributed
 * to an endpoint (or to one slow request) as a flame graph, at `/endpoint-cpu?endpoint=...`.
 * Everything the view needs is in its URL, so a link from the Requests page can be shared.
 */
export interface EndpointCpuTarget {
	/** `METHOD /path/template`, as the samples' `endpoint` label names it. */
	endpoint: string;
	/** Set for "CPU during this request": the request record's `requestId`. */
	requestId?: string | undefined;
	host?: string | undefined;
	/** The serving process; or `comm` when several of a command's processes served it. */
	pid?: number | undefined;
	comm?: string | undefined;
	range: TimeRange;
}

/** The endpoint label of samples: the request table's method and endpoint template. */
export function sampleEndpoint(method: string, endpoint: string): string {
	return `${method} ${endpoint}`;
}

/** A request slower than this opens "CPU during this request" even below its endpoint's p99. */
export const SLOW_REQUEST_MS = 200;

/** Slow: above the threshold, or at or above the p99 of its endpoint when that is known. */
export function isSlowRequest(latencyMs: number, p99Ms?: number | null, thresholdMs = SLOW_REQUEST_MS): boolean {
	return latencyMs > thresholdMs || (p99Ms !== undefined && p99Ms !== null && p99Ms > 0 && latencyMs >= p99Ms);
}

/**
 * The collector holds a sample back one window while its request, or one open before it on the
 * thread, is still open and younger than the slow threshold (500 ms), or not parsed yet; such a
 * sample goes out with the next window. That happens only when the window closed less than this
 * long after the request ended, so reaching this far past the end takes in that next window.
 */
const HELD_BACK_MS = 1000;

/**
 * The range that covers a request from its first byte to its response, whole milliseconds
 * outwards, and HELD_BACK_MS after: profile windows overlapping it are merged whole, and only
 * the samples labelled with its requestId are kept.
 */
export function requestRange(request: { ts: number; latencyMs: number }): TimeRange {
	const from = Math.floor(request.ts);
	return { kind: 'absolute', from, to: Math.max(from + 1, Math.ceil(request.ts + request.latencyMs)) + HELD_BACK_MS };
}

/** "CPU of this endpoint" for an endpoint row: one process by pid, several by their command. */
export function endpointTarget(
	row: { host: string; comm: string; method: string; endpoint: string; pids: readonly number[] },
	range: TimeRange,
): EndpointCpuTarget {
	const [only] = row.pids;
	return {
		endpoint: sampleEndpoint(row.method, row.endpoint),
		host: row.host,
		...(row.pids.length === 1 && only !== undefined ? { pid: only } : { comm: row.comm }),
		range,
	};
}

/** "CPU during this request", or null for a request no sample was attributed to by id. */
export function requestTarget(request: {
	host: string;
	pid: number;
	method: string;
	endpoint: string;
	ts: number;
	latencyMs: number;
	requestId?: string | undefined;
}): EndpointCpuTarget | null {
	if (!request.requestId) return null;
	return {
		endpoint: sampleEndpoint(request.method, request.endpoint),
		requestId: request.requestId,
		host: request.host,
		pid: request.pid,
		range: requestRange(request),
	};
}

export function endpointCpuHref(target: EndpointCpuTarget): string {
	const params = new URLSearchParams({ endpoint: target.endpoint });
	if (target.requestId) params.set('request', target.requestId);
	if (target.host) params.set('host', target.host);
	if (target.pid !== undefined) params.set('pid', String(target.pid));
	else if (target.comm) params.set('comm', target.comm);
	if (target.range.kind === 'absolute') {
		params.set('from', String(target.range.from));
		params.set('to', String(target.range.to));
	} else {
		params.set('range', target.range.preset);
	}
	return `/endpoint-cpu?${params.toString()}`;
}

const DEFAULT_RANGE: TimeRange = { kind: 'relative', preset: '15m' };

/** The target of an `/endpoint-cpu` URL, and what of it could not be honoured, one line each. */
export function parseEndpointCpuTarget(params: { get(name: string): string | null }): {
	target: EndpointCpuTarget | null;
	warnings: string[];
} {
	const warnings: string[] = [];
	const given = (name: string) => {
		const value = params.get(name)?.trim();
		return value ? value : undefined;
	};
	const endpoint = given('endpoint');
	if (endpoint === undefined) return { target: null, warnings };
	let range = DEFAULT_RANGE;
	const from = parseTime(given('from') ?? null);
	const to = parseTime(given('to') ?? null);
	const preset = given('range');
	if (from !== null && to !== null && from < to) range = { kind: 'absolute', from, to };
	else if (given('from') !== undefined || given('to') !== undefined)
		warnings.push('Ignored from/to: not a range; showing the last 15 minutes');
	else if (preset !== undefined) {
		if (findPreset(preset)) range = { kind: 'relative', preset: preset as RangePresetId };
		else warnings.push(`Ignored range=${preset}: not a range on offer; showing the last 15 minutes`);
	}
	const pidText = given('pid');
	const pid = parsePid(pidText);
	if (pidText !== undefined && pid === null) warnings.push(`Ignored pid=${pidText}: not a process id`);
	return {
		target: {
			endpoint,
			requestId: given('request'),
			host: given('host'),
			...(pid !== null ? { pid } : { comm: given('comm') }),
			range,
		},
		warnings,
	};
}
