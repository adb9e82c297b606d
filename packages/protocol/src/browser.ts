import { z } from 'zod';
import { liveConnectionsMessageSchema } from './connections.ts';
import { limits } from './limits.ts';
import { dropsSchema, featuresSchema, processRowSchema, spoolDepthSchema, warmUpSchema } from './live.ts';
import { liveRequestsMessageSchema } from './requests.ts';
import { frequencySchema, hostSchema, timestampSchema } from './profile-window.ts';

/** The latest process table of one host. */
export const processesMessageSchema = z.object({
	type: z.literal('processes'),
	host: hostSchema,
	ts: timestampSchema,
	rows: z.array(processRowSchema).max(limits.processesPerSnapshot),
});

export const hostStatusSchema = z.object({
	host: hostSchema,
	connected: z.boolean(),
	/** When the hub last heard from the collector, epoch ms. */
	lastSeenMs: timestampSchema,
	frequencyHz: frequencySchema,
	drops: dropsSchema,
	/** Collector version from its hello. */
	version: z.string().max(limits.shortString).optional(),
	/** The collector's features as its latest live stats reported them. */
	features: featuresSchema.optional(),
	/** The collector's spool as its latest live stats reported it. */
	spool: spoolDepthSchema.optional(),
	/** Its features still warming up, as its latest live stats reported them (while connected). */
	warmingUp: z.array(warmUpSchema).max(limits.features).optional(),
});
export type HostStatus = z.infer<typeof hostStatusSchema>;

/** Every host the hub knows, sent on connect and whenever one changes. */
export const statusMessageSchema = z.object({
	type: z.literal('status'),
	hosts: z.array(hostStatusSchema).max(limits.hosts),
});

/** A profile window was stored: pages in live mode refetch the range. */
export const windowMessageSchema = z.object({
	type: z.literal('window'),
	host: hostSchema,
	startMs: timestampSchema,
	durationMs: z.number().int().positive(),
});

/** Hub → browser over `/live`, one JSON object per WebSocket text message. */
export const liveServerMessageSchema = z.discriminatedUnion('type', [
	processesMessageSchema,
	statusMessageSchema,
	windowMessageSchema,
	liveConnectionsMessageSchema,
	liveRequestsMessageSchema,
]);
export type ProcessesMessage = z.infer<typeof processesMessageSchema>;
export type StatusMessage = z.infer<typeof statusMessageSchema>;
export type WindowMessage = z.infer<typeof windowMessageSchema>;
export type LiveServerMessage = z.infer<typeof liveServerMessageSchema>;
