import type { MouseEvent } from 'react';
import { endpointCpuHref, endpointTarget, requestTarget } from '../../lib/endpoint-cpu-links.ts';
import type { TimeRange } from '../../lib/profile-query.ts';

const DEFAULT_RANGE: TimeRange = { kind: 'relative', preset: '15m' };

/** A link inside a clickable row opens its own page, not the row. */
const own = (event: MouseEvent) => event.stopPropagation();

/**
 * "CPU of this endpoint" for an endpoint row the process served. Client rows get none: the
 * samples are attributed to the requests a thread reads, which only servers do.
 */
export function EndpointCpuLink({
	endpoint,
	range = DEFAULT_RANGE,
}: {
	endpoint: { host: string; comm: string; role: 'client' | 'server'; method: string; endpoint: string; pids: readonly number[] };
	range?: TimeRange | undefined;
}) {
	if (endpoint.role !== 'server') return null;
	return (
		<a
			className="button button-small"
			href={endpointCpuHref(endpointTarget(endpoint, range))}
			onClick={own}
			title="The flame graph of the CPU this endpoint burned, with its share of the process's CPU"
			data-testid="endpoint-cpu-link"
		>
			CPU
		</a>
	);
}

/**
 * "CPU during this request" for a server request slow by the collector's rule (`SLOW_REQUEST_MS`
 * or more, or at the endpoint's p99), so its samples carry its requestId.
 */
export function RequestCpuLink({
	request,
	p99Ms,
}: {
	request: {
		host: string;
		pid: number;
		role: 'client' | 'server';
		method: string;
		endpoint: string;
		ts: number;
		latencyMs: number;
		requestId?: string | undefined;
	};
	p99Ms?: number | null | undefined;
}) {
	const target = requestTarget(request, p99Ms);
	if (target === null) return null;
	return (
		<a
			className="button button-small"
			href={endpointCpuHref(target)}
			onClick={own}
			title="The flame graph of the samples attributed to this request while it was served"
			data-testid="request-cpu-link"
		>
			CPU during this request
		</a>
	);
}
