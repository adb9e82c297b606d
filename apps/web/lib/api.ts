import { createTRPCClient, httpBatchLink, httpLink, splitLink, TRPCClientError } from '@trpc/client';
import type { AppRouter, FlameResult } from '@firesight/api';
import { hostInput } from './host-selection.ts';

export type { FlameResult } from '@firesight/api';

/**
 * What the page paints first goes alone: a batch answers when its slowest call does, and the
 * flame graph waited for the CPU timeline, which reads every window of the range too.
 */
const UNBATCHED = new Set(['profile.flame', 'profile.subtree']);

/**
 * The hub's tRPC API on the page's own origin, in batches no larger than the hub accepts (10).
 * An unbatched call is sent at once, while a batch waits for the end of the task: the flame
 * query reaches the hub first.
 */
export const api = createTRPCClient<AppRouter>({
	links: [
		splitLink({
			condition: (op) => UNBATCHED.has(op.path),
			true: httpLink({ url: '/trpc' }),
			false: httpBatchLink({ url: '/trpc', maxItems: 10 }),
		}),
	],
});

export interface ProfileRequest {
	from: number;
	to: number;
	pid: number | null;
	comm: string;
	/** Every host when empty, one, or several merged. */
	hosts: readonly string[];
	/** Smallest share of the total worth drawing (one pixel of the graph's width). */
	minFraction: number;
	/** A `comm (pid)` level under each command. */
	groupByProcess?: boolean;
	/** Only samples attributed to this endpoint (`METHOD /path/template`). */
	endpoint?: string | undefined;
	/** An endpoint level under each process. */
	groupByEndpoint?: boolean;
}

/** The pid, comm and host filters of a request, as the profile procedures take them. */
export function filterInput(request: Pick<ProfileRequest, 'pid' | 'comm' | 'hosts' | 'endpoint'>) {
	return {
		...(request.pid !== null ? { pid: request.pid } : {}),
		...(request.comm ? { comm: request.comm } : {}),
		...(request.endpoint ? { endpoint: request.endpoint } : {}),
		...hostInput(request.hosts),
	};
}

export function fetchFlame(request: ProfileRequest, signal: AbortSignal): Promise<FlameResult> {
	return api.profile.flame.query(
		{
			fromMs: request.from,
			toMs: request.to,
			minFraction: request.minFraction,
			...filterInput(request),
			...(request.groupByProcess ? { groupByProcess: true } : {}),
			...(request.groupByEndpoint ? { groupByEndpoint: true } : {}),
		},
		{ signal },
	);
}

export type ProcessLookup = Awaited<ReturnType<typeof api.processes.find.query>>;

/** A pid on the one selected host, or on any host when several or none are selected. */
export function findProcess(pid: number, hosts: readonly string[], signal: AbortSignal): Promise<ProcessLookup> {
	return api.processes.find.query({ pid, ...(hosts.length === 1 ? { host: hosts[0] } : {}) }, { signal });
}

/** A message a person can act on, from whatever the client threw. */
export function describeError(error: unknown): string {
	if (error instanceof TRPCClientError) {
		const code = (error.data as { firesight?: string } | undefined)?.firesight;
		if (code === 'UNAVAILABLE') return `The hub's store is unavailable: ${error.message}`;
		if (code === 'RANGE_TOO_LARGE') return `${error.message}. Pick a shorter time range.`;
		if (code === 'BAD_INPUT') return `The hub rejected the query: ${error.message}`;
	}
	if (error instanceof Error) {
		if (/fetch failed|Failed to fetch|NetworkError|ECONNREFUSED|Load failed/i.test(error.message)) {
			return 'The hub did not answer. Is `firesight up` still running?';
		}
		return error.message || 'Unexpected error';
	}
	return String(error);
}
