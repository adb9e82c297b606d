import { z } from 'zod';
import { commSchema, hostSchema, pidSchema, timestampSchema } from '@firesight/protocol';

/** Longest range one query may merge; retention is shorter by default, this only bounds work. */
export const MAX_RANGE_MS = 366 * 86_400_000;

/** Default pruning: nodes narrower than 1/2000 of the graph, under a pixel on any real screen. */
export const DEFAULT_MIN_FRACTION = 1 / 2000;

export const profileQueryInput = z
	.object({
		fromMs: timestampSchema,
		toMs: timestampSchema,
		host: hostSchema.optional(),
		pid: pidSchema.optional(),
		comm: commSchema.min(1).optional(),
	})
	.refine((q) => q.fromMs < q.toMs, { message: 'fromMs must be before toMs', path: ['toMs'] });
export type ProfileQueryInput = z.infer<typeof profileQueryInput>;

export const flameInput = z
	.object({
		fromMs: timestampSchema,
		toMs: timestampSchema,
		host: hostSchema.optional(),
		pid: pidSchema.optional(),
		comm: commSchema.min(1).optional(),
		/** Drop nodes below this share of all samples; 0 keeps every node. */
		minFraction: z.number().min(0).max(0.5).default(DEFAULT_MIN_FRACTION),
		/** Rows of the top-functions table to return. */
		topLimit: z.number().int().min(0).max(10_000).default(500),
	})
	.refine((q) => q.fromMs < q.toMs, { message: 'fromMs must be before toMs', path: ['toMs'] });
export type FlameInput = z.input<typeof flameInput>;

export const foldedInput = z
	.object({
		fromMs: timestampSchema,
		toMs: timestampSchema,
		host: hostSchema.optional(),
		pid: pidSchema.optional(),
		comm: commSchema.min(1).optional(),
		/** Name processes `comm-PID` instead of `comm`. */
		pids: z.boolean().default(false),
	})
	.refine((q) => q.fromMs < q.toMs, { message: 'fromMs must be before toMs', path: ['toMs'] });

export const hostFilterInput = z.object({ host: hostSchema.optional() }).default({});

export const processFindInput = z.object({ pid: pidSchema, host: hostSchema.optional() });
