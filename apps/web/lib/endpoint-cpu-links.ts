import { SLOW_REQUEST_MS, isSlowRequest } from '@firesight/protocol';
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

/**
 * Why "CPU during this request" can be empty for a request that did burn CPU, in one line: the
 * page's p99 (over its range) is not the collector's (over one window), so a request the page
 * found slow may not have been in its window.
 */
export const REQUEST_LABEL_RULE = `A request's samples are labelled with its id only when it was slow in its collector's window: ${SLOW_REQUEST_MS} ms or more, or at its window's p99 for its process and endpoint. Otherwise they count in its endpoint's CPU.`;

/**
 * The collector holds a sample back one window while its request, or one open before it on the
 * thread, is still open and younger than the slow threshold (`SLOW_REQUEST_MS`), or not parsed
 * yet; such a sample goes out with the next window. That happens only when the window closed less than this
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

/**
 * "CPU during this request", or null for a request whose samples carry no requestId: a client's
 * (samples are attributed to the requests a server's thread reads), one the kernel gave no id, or
 * one that was not slow (`isSlowRequest`, the collector's rule: `SLOW_REQUEST_MS` or more, or at
 * or above `p99Ms`, its endpoint's p99 when known), whose samples merge into its endpoint's.
 */
export function requestTarget(
	request: {
		host: string;
		pid: number;
		role: 'client' | 'server';
		method: string;
		endpoint: string;
		ts: number;
		latencyMs: number;
		requestId?: string | undefined;
	},
	p99Ms?: number | null,
): EndpointCpuTarget | null {
	if (!request.requestId || request.role !== 'server' || !isSlowRequest(request.latencyMs, p99Ms)) return null;
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
