import { createTRPCUntypedClient, httpBatchLink } from '@trpc/client';
import type { FlameNode, FunctionRow } from '@firesight/profile';

/** The merged profile of a time range, as the Profiles page draws it. */
export interface FlameResult {
	root: FlameNode;
	/** Nodes dropped on the hub because they would be narrower than a pixel. */
	pruned: number;
	totalSamples: number;
	windows: number;
	functions: FunctionRow[];
}

export interface ProfileRequest {
	from: number;
	to: number;
	pid: number | null;
	comm: string;
	host: string;
	/** Smallest share of the total worth drawing (one pixel of the graph's width). */
	minFraction: number;
}

const client = createTRPCUntypedClient({ links: [httpBatchLink({ url: '/trpc' })] });

export async function fetchFlame(request: ProfileRequest, signal: AbortSignal): Promise<FlameResult> {
	const input: Record<string, unknown> = { from: request.from, to: request.to, minFraction: request.minFraction };
	if (request.pid !== null) input.pid = request.pid;
	if (request.comm) input.comm = request.comm;
	if (request.host) input.host = request.host;
	return (await client.query('profile.flame', input, { signal })) as FlameResult;
}

/** A message a person can act on, from whatever the client threw. */
export function describeError(error: unknown): string {
	if (error instanceof Error) {
		if (/fetch failed|Failed to fetch|NetworkError|ECONNREFUSED/i.test(error.message)) {
			return 'The hub did not answer. Is `firesight up` still running?';
		}
		return error.message;
	}
	return String(error);
}
