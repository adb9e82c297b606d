import { initTRPC } from '@trpc/server';
import { z } from 'zod';
import { hostSchema, pidSchema, timestampSchema, type LiveConnectionsMessage } from '@firesight/protocol';
import type { ConnectionRetransmits, ConnectionStore, RetransmitSeries } from '@firesight/store';
import { ApiError } from './errors.ts';
import type { ApiContext } from './context.ts';
import { MAX_RANGE_MS } from './inputs.ts';

// Errors are formatted by the root router (router.ts) this one is mounted in.
const t = initTRPC.context<ApiContext>().create();

const rangeFields = {
	fromMs: timestampSchema,
	toMs: timestampSchema,
	host: hostSchema.optional(),
	pid: pidSchema.optional(),
};
const validRange = (q: { fromMs: number; toMs: number }) => q.fromMs < q.toMs;
const rangeMessage = { message: 'fromMs must be before toMs', path: ['toMs'] };

export const networkConnectionsInput = z.object(rangeFields).refine(validRange, rangeMessage);
export const networkSeriesInput = z
	.object({ ...rangeFields, stepMs: z.number().int().min(1000).max(86_400_000).default(10_000) })
	.refine(validRange, rangeMessage);
export const networkLiveInput = z.object({ host: hostSchema.optional() }).default({});

export interface RatePoint {
	t: number;
	retransmits: number;
	/** retransmits / step seconds. */
	perSecond: number;
}

export interface RateSeries extends Omit<RetransmitSeries, 'points'> {
	points: RatePoint[];
}

export interface NetworkSeriesResult {
	fromMs: number;
	toMs: number;
	stepMs: number;
	/** Every bucket start of the range, so charts draw the quiet stretches as zero. */
	buckets: number[];
	hosts: RateSeries[];
	processes: RateSeries[];
}

function store(ctx: ApiContext): ConnectionStore {
	if (!ctx.connections) throw new ApiError('UNAVAILABLE', 'this hub keeps no connection data');
	return ctx.connections;
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

/** TCP connection health: live connection tables and stored retransmits. */
export const networkRouter = t.router({
	/** Retransmits per connection, summed over the stored windows that start in the range. */
	connections: t.procedure.input(networkConnectionsInput).query(async ({ input, ctx }): Promise<ConnectionRetransmits[]> => {
		checkRange(input);
		return guarded('connection query failed', () => store(ctx).queryConnections(input));
	}),
	/** Retransmits/s per host and per process, in buckets of stepMs. */
	series: t.procedure.input(networkSeriesInput).query(async ({ input, ctx }): Promise<NetworkSeriesResult> => {
		checkRange(input);
		const r = await guarded('series query failed', () => store(ctx).querySeries(input));
		const seconds = r.stepMs / 1000;
		const rate = (s: RetransmitSeries): RateSeries => ({
			...s,
			points: s.points.map((p) => ({ ...p, perSecond: p.retransmits / seconds })),
		});
		const buckets: number[] = [];
		for (let b = r.startMs; b < input.toMs; b += r.stepMs) buckets.push(b);
		return { fromMs: input.fromMs, toMs: input.toMs, stepMs: r.stepMs, buckets, hosts: r.hosts.map(rate), processes: r.processes.map(rate) };
	}),
	/** Each host's latest live connection table. */
	live: t.procedure.input(networkLiveInput).query(({ input, ctx }): LiveConnectionsMessage[] => ctx.live.connections?.(input.host) ?? []),
});
