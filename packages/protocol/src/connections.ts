import { z } from 'zod';
import { commSchema, countSchema, hostSchema, pidSchema, timestampSchema, windowFields } from './profile-window.ts';
import { limits } from './limits.ts';
import type { MessageKind } from './queue-class.ts';

/** Connection rows in one live snapshot; the collector sends the ones with most retransmits first. */
export const MAX_CONNECTIONS_PER_SNAPSHOT = 2_000;
/** Connections with retransmits in one stored window. */
export const MAX_CONNECTIONS_PER_WINDOW = 100_000;

const portSchema = z.number().int().min(0).max(65_535);
const rateSchema = z.number().min(0).max(1e9);
const addrSchema = z.string().max(64);
/** Kernel TCP state names (ESTABLISHED, CLOSE, ...). */
const stateSchema = z.string().max(32);

/** A connection's identity, owner and state, in live rows and stored windows alike. */
const connectionFields = {
	/** The kernel's socket cookie (decimal): tells apart connections that reused a 4-tuple. */
	cookie: z.string().max(32),
	pid: pidSchema,
	comm: commSchema,
	family: z.union([z.literal(4), z.literal(6)]),
	saddr: addrSchema,
	sport: portSchema,
	daddr: addrSchema,
	dport: portSchema,
	state: stateSchema,
};

/** One TCP connection as the collector's connection table sees it. Times are epoch ms. */
export const connectionRowSchema = z.object({
	/** family, 4-tuple and owner. */
	key: z.string().max(limits.shortString),
	...connectionFields,
	direction: z.enum(['active', 'passive', 'unknown']),
	openedAt: timestampSchema,
	openedBeforeTracing: z.boolean(),
	closedAt: timestampSchema.nullable(),
	ageMs: z.number().min(0),
	bytesSent: countSchema,
	bytesReceived: countSchema,
	/** Segments retransmitted (SYN-ACKs included), as the kernel's TcpRetransSegs counts them. */
	retransmits: countSchema,
	retransmitsPerSecond: rateSchema,
	firstRetransmitAt: timestampSchema.nullable(),
	lastRetransmitAt: timestampSchema.nullable(),
});
export type ConnectionRow = z.infer<typeof connectionRowSchema>;

/** Connection counts and retransmits, per process and per host. */
const connectionCountFields = {
	connections: countSchema,
	openConnections: countSchema,
	/** Since the collector started, closed connections included. */
	retransmits: countSchema,
	retransmitsPerSecond: rateSchema,
};

export const processRetransmitsSchema = z.object({
	pid: pidSchema,
	comm: commSchema,
	...connectionCountFields,
	bytesSent: countSchema,
	bytesReceived: countSchema,
});
export type ProcessRetransmits = z.infer<typeof processRetransmitsSchema>;

export const connectionTotalsSchema = z.object(connectionCountFields);
export type ConnectionTotals = z.infer<typeof connectionTotalsSchema>;

/** A host's live connection table, once a second. */
export const connectionsSnapshotSchema = z.object({
	host: hostSchema,
	ts: timestampSchema,
	/** Sorted by retransmits, most first; at most MAX_CONNECTIONS_PER_SNAPSHOT. */
	connections: z.array(connectionRowSchema).max(MAX_CONNECTIONS_PER_SNAPSHOT),
	/** Connections the collector knew but left out of `connections`. */
	omitted: countSchema,
	processes: z.array(processRetransmitsSchema).max(limits.processesPerSnapshot),
	totals: connectionTotalsSchema,
});
export type ConnectionsSnapshot = z.infer<typeof connectionsSnapshotSchema>;

/** Per-connection retransmits of one window: what the hub stores as the retransmit series. */
export const windowConnectionSchema = z.object({
	...connectionFields,
	/** Retransmits in this window (positive). */
	retransmits: z.number().int().positive(),
	firstRetransmitAt: timestampSchema.nullable(),
	lastRetransmitAt: timestampSchema.nullable(),
});
export type WindowConnection = z.infer<typeof windowConnectionSchema>;

export const retransmitWindowSchema = z.object({
	...windowFields,
	connections: z.array(windowConnectionSchema).max(MAX_CONNECTIONS_PER_WINDOW),
});
export type RetransmitWindow = z.infer<typeof retransmitWindowSchema>;

/** Collector → hub: the live connection table. */
export const connectionsMessageSchema = z.object({
	type: z.literal('connections'),
	snapshot: connectionsSnapshotSchema,
});
export type ConnectionsMessage = z.infer<typeof connectionsMessageSchema>;
/** Superseded by the next table a second later. */
export const connectionsMessageKind = { queue: 'live', payload: 'snapshot' } as const satisfies MessageKind;

/** Collector → hub: one window of per-connection retransmits, to store. */
export const retransmitWindowMessageSchema = z.object({
	type: z.literal('retransmitWindow'),
	window: retransmitWindowSchema,
});
export type RetransmitWindowMessage = z.infer<typeof retransmitWindowMessageSchema>;
export const retransmitWindowMessageKind = { queue: 'window', payload: 'window' } as const satisfies MessageKind;

/** Hub → browser: a host's latest connection table. */
export const liveConnectionsMessageSchema = connectionsSnapshotSchema.extend({ type: z.literal('connections') });
export type LiveConnectionsMessage = z.infer<typeof liveConnectionsMessageSchema>;
