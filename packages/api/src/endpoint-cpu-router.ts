import { z } from 'zod';
import { requestIdEntry, totalWeight } from '@firesight/profile';
import { commSchema, pidSchema } from '@firesight/protocol';
import { flameResult, type FlameResult } from './flame-result.ts';
import { checkRange, guarded } from './guards.ts';
import { perHost, queryProfiles } from './host-selection.ts';
import { DEFAULT_MIN_FRACTION, fromBeforeTo, requestLabelFilter, selectionRangeFields } from './inputs.ts';
import { t } from './trpc.ts';

export const endpointCpuInput = fromBeforeTo(
	z.object({
		...selectionRangeFields,
		/** The process that served the endpoint: its CPU is what the share is of. */
		pid: pidSchema.optional(),
		/** Or its command, when several processes of it served the endpoint. */
		comm: commSchema.min(1).optional(),
		...requestLabelFilter,
		/**
		 * With a requestId: draw only its own samples (taken while it was the only request open on
		 * its thread), not its thread's during its lifetime.
		 */
		ownOnly: z.boolean().default(false),
		minFraction: z.number().min(0).max(0.5).default(DEFAULT_MIN_FRACTION),
		topLimit: z.number().int().min(0).max(10_000).default(100),
	}),
).refine((q) => q.endpoint !== undefined || q.requestId !== undefined, {
	message: 'give an endpoint or a requestId',
	path: ['endpoint'],
});
export type EndpointCpuInput = z.input<typeof endpointCpuInput>;

export interface EndpointCpu {
	/** The flame graph of the samples attributed to the endpoint (or the request) over the range. */
	flame: FlameResult;
	/** All samples of the same process (pid, comm and host filters, no request label) over the range. */
	processSamples: number;
	/** flame.totalSamples over processSamples; null when the process had no sample. */
	share: number | null;
	/**
	 * Of flame.totalSamples, those taken while several requests were open on the thread: the
	 * endpoint (or request) was the one read last, not necessarily the one running.
	 */
	ambiguousSamples: number;
	/**
	 * "CPU during this request" (a requestId was given): how its samples split (the flame graph
	 * draws them all, or with `ownOnly` the exact ones). Samples
	 * taken while the request was the only one open on its thread are exactly its own. The rest
	 * were taken on its thread during its lifetime while other requests were open too (ambiguous):
	 * what ran may have been any of them, and `mayBeAfterSamples` of them may even come from
	 * after it ended (the request they were stamped with outlived it).
	 */
	request?: { exactSamples: number; lifetimeSamples: number; mayBeAfterSamples: number };
}

/**
 * "CPU of this endpoint" and "CPU during this request": the attributed samples as a flame graph,
 * with the share of the serving process's CPU they are. For a request whose attribution was
 * ambiguous, that is its thread's CPU during its lifetime (see `EndpointCpu.request`); give no
 * endpoint with it, since the other requests open then may be of other endpoints.
 */
export const endpointCpuProcedure = t.procedure.input(endpointCpuInput).query(async ({ input, ctx }): Promise<EndpointCpu> => {
	checkRange(input);
	const scope = { fromMs: input.fromMs, toMs: input.toMs, host: input.host, pid: input.pid, comm: input.comm };
	const [attributed, processTotals] = await guarded('profile query failed', () =>
		Promise.all([
			queryProfiles(ctx.storage.profiles, { ...scope, endpoint: input.endpoint, requestId: input.requestId }),
			// One bucket over the whole range: the process's samples without building its profile.
			perHost(scope, (q) => ctx.storage.profiles.timeline({ ...q, bucketMs: input.toMs - input.fromMs })),
		]),
	);
	const processSamples = processTotals.reduce((sum, buckets) => sum + buckets.reduce((a, b) => a + b, 0), 0);
	const drawn =
		input.ownOnly && input.requestId !== undefined
			? { ...attributed.profile, samples: attributed.profile.samples.filter((s) => s.ambiguous !== true) }
			: attributed.profile;
	const flame = await flameResult(drawn, input, attributed.windows, input);
	let ambiguousSamples = 0;
	for (const s of drawn.samples) if (s.ambiguous === true) ambiguousSamples += s.weight;
	const samples = totalWeight(drawn);
	const out: EndpointCpu = { flame, processSamples, share: processSamples > 0 ? samples / processSamples : null, ambiguousSamples };
	if (input.requestId !== undefined) {
		const request = { exactSamples: 0, lifetimeSamples: 0, mayBeAfterSamples: 0 };
		for (const s of attributed.profile.samples) {
			if (s.ambiguous !== true) request.exactSamples += s.weight;
			else {
				request.lifetimeSamples += s.weight;
				if (requestIdEntry(s.requestId, input.requestId)?.mayBeAfter === true) request.mayBeAfterSamples += s.weight;
			}
		}
		out.request = request;
	}
	return out;
});
