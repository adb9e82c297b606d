import type { EndpointSummary } from '@firesight/store';
import type { CommandEndpoint } from './endpoint-groups.ts';
import type { HostRequest } from './live-store.ts';

/** `820 µs`, `1.25 ms`, `48.2 ms`, `312 ms`, `1.42 s`. */
export function formatLatency(ms: number): string {
	if (!Number.isFinite(ms) || ms < 0) return '–';
	if (ms < 1) return `${Math.round(ms * 1000)} µs`;
	if (ms < 10) return `${ms.toFixed(2)} ms`;
	if (ms < 100) return `${ms.toFixed(1)} ms`;
	if (ms < 1000) return `${Math.round(ms)} ms`;
	return `${(ms / 1000).toFixed(2)} s`;
}

/** Bucket bounds as the histogram's axis shows them: `1–2 ms`, `512 µs–1 ms`. */
export function bucketLabel(lowMs: number, highMs: number): string {
	const short = (ms: number) =>
		ms < 1 ? `${Math.round(ms * 1000)} µs` : ms < 1000 ? `${+ms.toPrecision(3)} ms` : `${+(ms / 1000).toPrecision(3)} s`;
	return `${lowMs === 0 ? '0' : short(lowMs)}–${short(highMs)}`;
}

export type StatusTone = 'ok' | 'redirect' | 'client-error' | 'server-error' | 'unknown';

export function statusTone(status: number): StatusTone {
	if (status >= 500) return 'server-error';
	if (status >= 400) return 'client-error';
	if (status >= 300) return 'redirect';
	if (status >= 100) return 'ok';
	return 'unknown';
}

export function requestMatches(r: HostRequest, needle: string): boolean {
	if (!needle) return true;
	return (
		String(r.pid) === needle ||
		String(r.status) === needle ||
		r.comm.toLowerCase().includes(needle) ||
		r.method.toLowerCase() === needle ||
		r.path.toLowerCase().includes(needle) ||
		(r.remote ?? '').includes(needle)
	);
}

export function endpointMatches(e: CommandEndpoint, needle: string): boolean {
	if (!needle) return true;
	return (
		e.comm.toLowerCase().includes(needle) ||
		e.method.toLowerCase() === needle ||
		e.endpoint.toLowerCase().includes(needle) ||
		e.role === needle ||
		e.pids.some((pid) => String(pid) === needle)
	);
}

/** Stable row key: a request is one exchange on one connection, started at one instant. */
export function requestKey(r: HostRequest): string {
	return `${r.host}|${r.pid}|${r.role}|${r.connection ?? '?'}|${r.ts}|${r.path}`;
}

export interface RecentSummary {
	count: number;
	/** 5xx / count. */
	errorRate: number;
	/** Nearest-rank p99 of the latencies. */
	p99Ms: number;
}

export function summarizeRecent(requests: readonly HostRequest[]): RecentSummary {
	if (requests.length === 0) return { count: 0, errorRate: 0, p99Ms: 0 };
	const latencies = requests.map((r) => r.latencyMs).sort((a, b) => a - b);
	const errors = requests.filter((r) => r.status >= 500).length;
	return {
		count: requests.length,
		errorRate: errors / requests.length,
		p99Ms: latencies[Math.min(latencies.length - 1, Math.ceil(0.99 * latencies.length) - 1)]!,
	};
}

/**
 * The p99 of a request's endpoint in its own process, over the page's range (from the stored
 * latency histograms): the second half of the slow rule (`isSlowRequest`), per process and
 * endpoint as the collector applies it. Null when the range holds no window of that endpoint.
 */
export function requestEndpointP99(
	endpoints: readonly EndpointSummary[] | undefined,
	r: Pick<HostRequest, 'host' | 'pid' | 'role' | 'method' | 'endpoint'>,
): number | null {
	const e = endpoints?.find(
		(e) => e.host === r.host && e.pid === r.pid && e.role === r.role && e.method === r.method && e.endpoint === r.endpoint,
	);
	return e && e.count > 0 ? e.p99Ms : null;
}
