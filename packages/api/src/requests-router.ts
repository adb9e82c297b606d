import { initTRPC } from '@trpc/server';
import { z } from 'zod';
import { hostSchema, pidSchema, timestampSchema } from '@firesight/protocol';
import type { EndpointsResult, HistogramResult, RequestStore, StoredRequest } from '@firesight/store';
import { ApiError } from './errors.ts';
import type { ApiContext } from './context.ts';
import { MAX_RANGE_MS } from './inputs.ts';

// Errors are formatted by the root router (router.ts) this one is mounted in.
const t = initTRPC.context<ApiContext>().create();

/** Requests one call may return; the CLI pages with sinceMs for more. */
export const MAX_REQUESTS_PER_CALL = 10_000;

const filterFields = { host: hostSchema.optional(), pid: pidSchema.optional() };
const validRange = (q: { fromMs: number; toMs: number }) => q.fromMs < q.toMs;
const rangeMessage = { message: 'fromMs must be before toMs', path: ['toMs'] };
const rangeFields = { fromMs: timestampSchema, toMs: timestampSchema, ...filterFields };

export const requestsRecentInput = z.object({ ...filterFields, limit: z.number().int().min(1).max(MAX_REQUESTS_PER_CALL).default(200) }).default({ limit: 200 });
export const requestsListInput = z.object({
	...filterFields,
	sinceMs: timestampSchema,
	untilMs: timestampSchema.optional(),
	limit: z.number().int().min(1).max(MAX_REQUESTS_PER_CALL).default(MAX_REQUESTS_PER_CALL),
});
export const requestsEndpointsInput = z.object(rangeFields).refine(validRange, rangeMessage);
export const requestsHistogramInput = z
	.object({
		...rangeFields,
		endpoint: z.string().min(1).max(8192),
		method: z.string().max(32).optional(),
		role: z.enum(['client', 'server']).optional(),
	})
	.refine(validRange, rangeMessage);

function store(ctx: ApiContext): RequestStore {
	if (!ctx.requests) throw new ApiError('UNAVAILABLE', 'this hub keeps no request data');
	return ctx.requests;
}

function checkRange(q: { fromMs: number; toMs: number }): void {
	if (q.toMs - q.fromMs > MAX_RANGE_MS) {
		throw new ApiError('RANGE_TOO_LARGE', `a query may span at most ${MAX_RANGE_MS / 86_400_000} days`);
	}
}

async function guarded<T>(what: string, fn: () => Promise<T>): Promise<T> {
	try {
		return await fn();
	} catch (err) {
		if (err instanceof ApiError) throw err;
		throw new ApiError('UNAVAILABLE', `${what}: ${(err as Error).message}`, err);
	}
}

/** HTTPS requests seen in TLS plaintext (already redacted by the collector) and their aggregates. */
export const requestsRouter = t.router({
	/** The newest stored requests, newest first. */
	recent: t.procedure.input(requestsRecentInput).query(({ input, ctx }): Promise<StoredRequest[]> =>
		guarded('request query failed', () => store(ctx).recentRequests(input)),
	),
	/** Requests from sinceMs on, oldest first (what `firesight query requests` prints). */
	list: t.procedure.input(requestsListInput).query(({ input, ctx }): Promise<StoredRequest[]> =>
		guarded('request query failed', () => store(ctx).listRequests(input)),
	),
	/** Per endpoint: count, rate, error rate, p50/p90/p99 merged from the stored windows' histograms. */
	endpoints: t.procedure.input(requestsEndpointsInput).query(async ({ input, ctx }): Promise<EndpointsResult> => {
		checkRange(input);
		return guarded('endpoint query failed', () => store(ctx).endpoints(input));
	}),
	/** One endpoint's log2 latency histogram over the range. */
	histogram: t.procedure.input(requestsHistogramInput).query(async ({ input, ctx }): Promise<HistogramResult> => {
		checkRange(input);
		return guarded('histogram query failed', () => store(ctx).histogram(input));
	}),
});
