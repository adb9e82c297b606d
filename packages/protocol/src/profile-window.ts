import type { Profile } from '@firesight/profile';
import { z } from 'zod';
import { limits } from './limits.ts';

/** Same shape as @firesight/profile's Frame. */
export const frameSchema = z.object({
	name: z.string().max(limits.frameName),
	module: z.string().max(limits.shortString),
	kind: z.enum(['user', 'kernel', 'jit']),
});
export type Frame = z.infer<typeof frameSchema>;

export const hostSchema = z.string().min(1).max(limits.shortString);
export const pidSchema = z
	.number()
	.int()
	.min(0)
	.max(2 ** 32 - 1);
export const commSchema = z.string().max(limits.shortString);
/**
 * Epoch milliseconds, before 2100: ClickHouse partitions by a Date, which ends in 2106, and no
 * clock that is right is decades ahead (8.64e15, the year 275760, used to be stored).
 */
export const MAX_TIMESTAMP_MS = Date.UTC(2100, 0, 1);
export const timestampSchema = z.number().int().min(0).max(MAX_TIMESTAMP_MS);
/** Samples per second per CPU: the collector takes 1 to 10,000; 1e-300 used to be stored. */
export const frequencySchema = z.number().min(1).max(100_000);
/** Counts and byte totals. */
export const countSchema = z.number().int().min(0);

/** What every stored window starts with: whose it is and the time it covers. */
export const windowFields = {
	host: hostSchema,
	startMs: timestampSchema,
	durationMs: z.number().int().positive().max(limits.maxWindowMs),
};

/** One (stack, pid, comm) of a window and how often it was sampled: a profile's sample. */
export const profileSampleSchema = z.object({
	pid: pidSchema,
	comm: commSchema,
	endpoint: z.string().max(limits.shortString).optional(),
	requestId: z.string().max(limits.shortString).optional(),
	ambiguous: z.boolean().optional(),
	/** Root first: user and jit frames root first, then kernel frames. Indices into `frames`. */
	stack: z.array(z.number().int().min(0)).max(limits.stackDepth),
	/** Samples; positive, and a u32 as SQLite packs it (above 2^32 it failed there as an internal error). */
	weight: z
		.number()
		.int()
		.positive()
		.max(2 ** 32 - 1),
});

/**
 * A window of symbolized stacks with counts, for one host: a `Profile` of @firesight/profile as
 * it is, plus the host. Frames are listed once and referenced by index so a window stays compact
 * on the wire; the collector sends its profile without converting it, and the hub stores it so.
 */
export type ProfileWindow = Profile & { readonly host: string };

export const profileWindowSchema: z.ZodType<ProfileWindow> = z
	.object({
		...windowFields,
		frequencyHz: frequencySchema,
		frames: z.array(frameSchema).max(limits.framesPerWindow),
		samples: z.array(profileSampleSchema).max(limits.stacksPerWindow),
	})
	.superRefine((w, ctx) => {
		// A dangling frame id would make every consumer guard its lookups; reject it once here.
		const n = w.frames.length;
		for (let i = 0; i < w.samples.length; i++) {
			const ids = w.samples[i]!.stack;
			for (let j = 0; j < ids.length; j++) {
				if (ids[j]! >= n) {
					ctx.addIssue({
						code: 'custom',
						path: ['samples', i, 'stack', j],
						message: `frame id ${ids[j]} out of range (window has ${n} frames)`,
					});
					return;
				}
			}
		}
	});
