import { z } from 'zod';
import type { ConnectionRetransmits, RetransmitSeries } from '@firesight/store';
import { checkRange, guarded } from './guards.ts';
import { fromBeforeTo, rangeFields } from './inputs.ts';
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

/** TCP connection health from stored retransmits (live connection tables go out on /live). */
export const networkRouter = t.router({
	/** Retransmits per connection, summed over the stored windows that start in the range. */
	connections: t.procedure.input(networkConnectionsInput).query(async ({ input, ctx }): Promise<ConnectionRetransmits[]> => {
		checkRange(input);
		return guarded('connection query failed', () => ctx.storage.connections.query(input));
	}),
	/** Retransmits/s per host and per process, in buckets of stepMs. */
	series: t.procedure.input(networkSeriesInput).query(async ({ input, ctx }): Promise<NetworkSeriesResult> => {
		checkRange(input);
		const r = await guarded('series query failed', () => ctx.storage.connections.series(input));
		const seconds = r.stepMs / 1000;
		const rate = (s: RetransmitSeries): RateSeries => ({
			...s,
			points: s.points.map((p) => ({ ...p, perSecond: p.retransmits / seconds })),
		});
		const buckets: number[] = [];
		for (let b = r.startMs; b < input.toMs; b += r.stepMs) buckets.push(b);
		return {
			fromMs: input.fromMs,
			toMs: input.toMs,
			stepMs: r.stepMs,
			buckets,
			hosts: r.hosts.map(rate),
			processes: r.processes.map(rate),
		};
	}),
});
