import { z } from 'zod';
import type { ConnectionRetransmits, RetransmitSeries } from '@firesight/store';
import { checkRange, guarded } from './guards.ts';
import { perHost } from './host-selection.ts';
import { fromBeforeTo, selectionRangeFields } from './inputs.ts';
import { t } from './trpc.ts';

const networkConnectionsInput = fromBeforeTo(z.object(selectionRangeFields));
const networkSeriesInput = fromBeforeTo(
	z.object({ ...selectionRangeFields, stepMs: z.number().int().min(1000).max(86_400_000).default(10_000) }),
);

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
		const answers = await guarded('connection query failed', () => perHost(input, (q) => ctx.storage.connections.query(q)));
		return answers.length === 1 ? (answers[0] ?? []) : answers.flat().sort((a, b) => b.retransmits - a.retransmits);
	}),
	/** Retransmits/s per host and per process, in buckets of stepMs. */
	series: t.procedure.input(networkSeriesInput).query(async ({ input, ctx }): Promise<NetworkSeriesResult> => {
		checkRange(input);
		const answers = await guarded('series query failed', () => perHost(input, (q) => ctx.storage.connections.series(q)));
		// Every host's answer has the same buckets (they depend on the range only); series are per host.
		const byTotal = (a: RetransmitSeries, b: RetransmitSeries) => b.total - a.total;
		const r = {
			stepMs: answers[0]?.stepMs ?? input.stepMs,
			startMs: answers[0]?.startMs ?? input.fromMs,
			hosts: answers.flatMap((a) => a.hosts).sort(byTotal),
			processes: answers.flatMap((a) => a.processes).sort(byTotal),
		};
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
