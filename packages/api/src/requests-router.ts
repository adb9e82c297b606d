import { z } from 'zod';
import { timestampSchema } from '@firesight/protocol';
import type { EndpointsResult, HistogramResult, StoredRequest } from '@firesight/store';
import { checkRange, guarded } from './guards.ts';
import { perHost } from './host-selection.ts';
import { filterFields, fromBeforeTo, rangeFields, selectionRangeFields } from './inputs.ts';
import { t } from './trpc.ts';

/** Requests one call may return; the CLI pages with sinceMs for more. */
export const MAX_REQUESTS_PER_CALL = 10_000;

const requestsListInput = z.object({
	...filterFields,
	sinceMs: timestampSchema,
	untilMs: timestampSchema.optional(),
	limit: z.number().int().min(1).max(MAX_REQUESTS_PER_CALL).default(MAX_REQUESTS_PER_CALL),
});
const requestsEndpointsInput = fromBeforeTo(z.object(selectionRangeFields));
const requestsHistogramInput = fromBeforeTo(
	z.object({
		...rangeFields,
		endpoint: z.string().min(1).max(8192),
		method: z.string().max(32).optional(),
		role: z.enum(['client', 'server']).optional(),
	}),
);

/** HTTPS requests seen in TLS plaintext (already redacted by the collector) and their aggregates. */
export const requestsRouter = t.router({
	/** Requests from sinceMs on, oldest first (what `firesight query requests` prints). */
	list: t.procedure
		.input(requestsListInput)
		.query(({ input, ctx }): Promise<StoredRequest[]> => guarded('request query failed', () => ctx.storage.requests.list(input))),
	/** Per endpoint: count, rate, error rate, p50/p90/p99 merged from the stored windows' histograms. */
	endpoints: t.procedure.input(requestsEndpointsInput).query(async ({ input, ctx }): Promise<EndpointsResult> => {
		checkRange(input);
		const answers = await guarded('endpoint query failed', () => perHost(input, (q) => ctx.storage.requests.endpoints(q)));
		const [only] = answers;
		if (answers.length === 1 && only) return only;
		// Endpoints are per host already; the hosts' windows cover the same range side by side.
		return {
			coveredMs: Math.max(0, ...answers.map((a) => a.coveredMs)),
			windows: answers.reduce((sum, a) => sum + a.windows, 0),
			endpoints: answers.flatMap((a) => a.endpoints).sort((a, b) => b.count - a.count),
		};
	}),
	/** One endpoint's log2 latency histogram over the range. */
	histogram: t.procedure.input(requestsHistogramInput).query(async ({ input, ctx }): Promise<HistogramResult> => {
		checkRange(input);
		return guarded('histogram query failed', () => ctx.storage.requests.histogram(input));
	}),
});
