import { z } from 'zod';
import { commSchema, hostSchema, limits, pidSchema, timestampSchema } from '@firesight/protocol';

/** Longest range one query may merge; retention is shorter by default, this only bounds work. */
export const MAX_RANGE_MS = 366 * 86_400_000;

/** Default pruning: nodes narrower than 1/2000 of the graph, under a pixel on any real screen. */
export const DEFAULT_MIN_FRACTION = 1 / 2000;

/** The host and pid filters most queries take. */
export const filterFields = { host: hostSchema.optional(), pid: pidSchema.optional() };

/** A range [fromMs, toMs) with the host and pid filters; wrap the object in `fromBeforeTo`. */
export const rangeFields = { fromMs: timestampSchema, toMs: timestampSchema, ...filterFields };

/** Hosts one query may name; every host is the query without `host`. */
export const MAX_SELECTED_HOSTS = 100;

/** One host, or several merged (the dashboard's host selector); every host when absent. */
export const hostSelectionSchema = z.union([hostSchema, z.array(hostSchema).min(1).max(MAX_SELECTED_HOSTS)]);
export type HostSelection = z.infer<typeof hostSelectionSchema>;

/** `rangeFields` whose host filter takes a host selection. */
export const selectionRangeFields = { ...rangeFields, host: hostSelectionSchema.optional() };

/** Rejects a range whose fromMs is not before its toMs. */
export function fromBeforeTo<O extends { fromMs: number; toMs: number }, I>(schema: z.ZodType<O, I>) {
	return schema.refine((q) => q.fromMs < q.toMs, { message: 'fromMs must be before toMs', path: ['toMs'] });
}

/**
 * Samples attributed to one endpoint (`METHOD /path/template`, matched exactly) or to one
 * request (a request record's `requestId`): the request labels the TLS capture stamps.
 */
export const requestLabelFilter = {
	endpoint: z.string().min(1).max(limits.shortString).optional(),
	requestId: z.string().min(1).max(limits.shortString).optional(),
};

/** An endpoint level under each process (`groupByEndpoint` of @firesight/profile). */
export const groupByEndpointField = { groupByEndpoint: z.boolean().default(false) };

/** The sample filters every profile query takes: the command and the request labels. */
const commFilter = { comm: commSchema.min(1).optional(), ...requestLabelFilter };

export const profileQueryInput = fromBeforeTo(z.object({ ...rangeFields, ...commFilter }));
export type ProfileQueryInput = z.infer<typeof profileQueryInput>;

/** `profileQueryInput` with a host selection (one host, or several merged). */
export const profileSelectionInput = fromBeforeTo(z.object({ ...selectionRangeFields, ...commFilter }));

export const flameInput = fromBeforeTo(
	z.object({
		...selectionRangeFields,
		...commFilter,
		/** Drop nodes below this share of all samples; 0 keeps every node. */
		minFraction: z.number().min(0).max(0.5).default(DEFAULT_MIN_FRACTION),
		/** Rows of the top-functions table to return. */
		topLimit: z.number().int().min(0).max(10_000).default(500),
		/** A `comm (pid)` level under each command, so its processes get a column each. */
		groupByProcess: z.boolean().default(false),
		...groupByEndpointField,
		/** Most nodes to send; the pruning threshold rises above `minFraction` to stay under it. */
		maxNodes: z.number().int().min(100).max(200_000).optional(),
	}),
);
export type FlameInput = z.input<typeof flameInput>;

export const foldedInput = fromBeforeTo(
	z.object({
		...selectionRangeFields,
		...commFilter,
		/** Name processes `comm-PID` instead of `comm`. */
		pids: z.boolean().default(false),
	}),
);

export const processFindInput = z.object({ pid: pidSchema, host: hostSchema.optional() });

/** A place in the flame graph: the process (comm), then frame names root first. */
export const flamePathSchema = z.array(z.string().max(2000)).min(1).max(1024);

/** The subtree at `path`, at full resolution: `minFraction` is of the subtree's own total. */
export const flameSubtreeInput = fromBeforeTo(
	z.object({
		...selectionRangeFields,
		...commFilter,
		path: flamePathSchema,
		minFraction: z.number().min(0).max(0.5).default(DEFAULT_MIN_FRACTION),
		groupByProcess: z.boolean().default(false),
		...groupByEndpointField,
	}),
);
export type FlameSubtreeInput = z.input<typeof flameSubtreeInput>;

/** What a search finds in the whole merged profile, or under `path` when the graph is zoomed. */
export const flameSearchInput = fromBeforeTo(
	z.object({
		...selectionRangeFields,
		...commFilter,
		term: z.string().min(1).max(500),
		path: flamePathSchema.optional(),
		groupByProcess: z.boolean().default(false),
		...groupByEndpointField,
	}),
);
export type FlameSearchInput = z.input<typeof flameSearchInput>;
