import { z } from 'zod';
import { commSchema } from '@firesight/protocol';
import { checkRange, guarded } from './guards.ts';
import { perHost } from './host-selection.ts';
import { fromBeforeTo, requestLabelFilter, selectionRangeFields } from './inputs.ts';
import { t } from './trpc.ts';

/** Bucket lengths a chart axis reads well, from one profile window (10 s) up to a day. */
const BUCKET_STEPS_MS = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400].map((s) => s * 1000);

/** The shortest step that cuts the range into at most `maxPoints` buckets. */
export function bucketFor(rangeMs: number, maxPoints: number): number {
	return BUCKET_STEPS_MS.find((step) => rangeMs / step <= maxPoints) ?? Math.ceil(rangeMs / maxPoints);
}

export const timelineInput = fromBeforeTo(
	z.object({
		...selectionRangeFields,
		comm: commSchema.min(1).optional(),
		...requestLabelFilter,
		/** Most points the chart wants; buckets are the shortest step that fits. */
		maxPoints: z.number().int().min(10).max(1000).default(200),
	}),
);

export interface Timeline {
	fromMs: number;
	toMs: number;
	bucketMs: number;
	/** Samples per bucket, bucket i starting at fromMs + i * bucketMs; hosts of a selection add up. */
	samples: number[];
}

/** The Profiles page's CPU-over-time chart: samples per bucket for the page's filters. */
export const timelineProcedure = t.procedure.input(timelineInput).query(async ({ input, ctx }): Promise<Timeline> => {
	checkRange(input);
	const bucketMs = bucketFor(input.toMs - input.fromMs, input.maxPoints);
	const perHostSamples = await guarded('timeline query failed', () =>
		perHost(input, (q) =>
			ctx.storage.profiles.timeline({
				fromMs: q.fromMs,
				toMs: q.toMs,
				host: q.host,
				pid: q.pid,
				comm: q.comm,
				endpoint: q.endpoint,
				requestId: q.requestId,
				bucketMs,
			}),
		),
	);
	const samples = perHostSamples[0]?.map((_, i) => perHostSamples.reduce((sum, one) => sum + (one[i] ?? 0), 0)) ?? [];
	return { fromMs: input.fromMs, toMs: input.toMs, bucketMs, samples };
});
