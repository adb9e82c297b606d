import { z } from 'zod';
import { limits } from './limits.ts';
import { commSchema, countSchema, frequencySchema, hostSchema, pidSchema, timestampSchema } from './profile-window.ts';

/**
 * One process in the live table. Columns added by later features are optional so an older
 * collector's rows still validate; add new ones here as `.optional()`.
 */
export const processRowSchema = z.object({
	pid: pidSchema,
	comm: commSchema,
	cmdline: z.string().max(limits.cmdline),
	/** Share of one CPU over the last second, 0..100 per core (can exceed 100 on multi-core). */
	cpuPercent: z.number().min(0).max(1e6),
	samplesPerSec: z.number().min(0).max(1e9),
	requestsPerSec: z.number().min(0).max(1e9).optional(),
	p99Ms: z.number().min(0).max(1e9).optional(),
	retransmits: countSchema.optional(),
	/** A kernel thread (PF_KTHREAD in /proc/PID/stat); absent from older collectors. */
	kernelThread: z.boolean().optional(),
});
export type ProcessRow = z.infer<typeof processRowSchema>;

/**
 * Named loss counters, cumulative since collector start: `<feature>.<counter>` with the counter
 * named as its decoder names it (`profile.userStackMissing`, `tcp.ringBufferFull`,
 * `hubQueue.window`). The same names reach /metrics and the UI.
 */
export const dropsSchema = z
	.record(z.string().max(limits.shortString), z.number().int().min(0))
	.refine((d) => Object.keys(d).length <= limits.dropCounters, {
		message: `at most ${limits.dropCounters} drop counters`,
	});
export type Drops = z.infer<typeof dropsSchema>;

/** A collector's features (signals): the ones running, and the ones that could not load, with why. */
export const featuresSchema = z.object({
	running: z.array(z.string().max(limits.shortString)).max(limits.features),
	failed: z.array(z.object({ name: z.string().max(limits.shortString), reason: z.string().max(limits.cmdline) })).max(limits.features),
});
export type Features = z.infer<typeof featuresSchema>;

/** One snapshot of a host's processes, twice a second. */
/** A collector's spool: stored messages the hub has not acknowledged yet, and their bytes. */
export const spoolDepthSchema = z.object({ messages: z.number().int().min(0), bytes: z.number().int().min(0) });
export type SpoolDepth = z.infer<typeof spoolDepthSchema>;

/**
 * A feature still getting ready to send data: the CPU profiler, on the whole host, loads the
 * unwind tables of the processes already running before its first window (up to 30 s). Reported
 * while it lasts, so an empty Profiles page says so rather than "no data".
 */
export const warmUpSchema = z.object({
	feature: z.string().max(limits.shortString),
	/** When it began, by the collector's clock. */
	sinceMs: timestampSchema,
	/** Unwind tables loaded into the kernel so far. */
	tablesLoaded: z.number().int().min(0).optional(),
	/** Processes whose mappings are still to be read. */
	processesQueued: z.number().int().min(0).optional(),
});
export type WarmUp = z.infer<typeof warmUpSchema>;

export const liveStatsSchema = z.object({
	host: hostSchema,
	ts: timestampSchema,
	frequencyHz: frequencySchema,
	processes: z.array(processRowSchema).max(limits.processesPerSnapshot),
	drops: dropsSchema,
	/** Absent from collectors older than the feature list. */
	features: featuresSchema.optional(),
	/** Absent from older collectors. */
	spool: spoolDepthSchema.optional(),
	/** Features warming up now; absent (or empty) once none is. */
	warmingUp: z.array(warmUpSchema).max(limits.features).optional(),
});
export type LiveStats = z.infer<typeof liveStatsSchema>;
