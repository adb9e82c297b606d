import { z } from 'zod';
import type { LiveConnectionsMessage } from '@firesight/protocol';
import type { ConnectionRetransmits, ConnectionStore, RetransmitSeries } from '@firesight/store';
import { ApiError } from './errors.ts';
import type { ApiContext } from './context.ts';
import { checkRange, guarded } from './guards.ts';
import { fromBeforeTo, hostFilterInput, rangeFields } from './inputs.ts';
import { t } from './trpc.ts';

const networkConnectionsInput = fromBeforeTo(z.object(rangeFields));
const networkSeriesInput = fromBeforeTo(z.object({ ...rangeFields, stepMs: z.number().int().min(1000).max(86_400_000).default(10_000) }));

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
	live: t.procedure.input(hostFilterInput).query(({ input, ctx }): LiveConnectionsMessage[] => ctx.live.connections?.(input.host) ?? []),
});
