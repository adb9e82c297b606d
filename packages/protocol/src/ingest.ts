import { z } from 'zod';
import {
	connectionsMessageKind,
	connectionsMessageSchema,
	retransmitWindowMessageKind,
	retransmitWindowMessageSchema,
} from './connections.ts';
import { liveStatsSchema } from './live.ts';
import type { MessageKind, QueueClass } from './queue-class.ts';
import { requestWindowMessageKind, requestWindowMessageSchema, requestsMessageKind, requestsMessageSchema } from './requests.ts';
import { frequencySchema, hostSchema, profileWindowSchema } from './profile-window.ts';
import { limits } from './limits.ts';

/** Version of the collector→hub protocol; the hub refuses a hello with another major. */
export const PROTOCOL_VERSION = 1;

/** A collector's run: random per start (or kept with its spool), so ids from two runs never meet. */
export const bootIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, - or _');

/**
 * The id of a stored message (queue class `window`), unique per collector: its boot id and a
 * sequence number that grows by one per stored message of that boot. The hub acknowledges it
 * once the message is durable and ignores an id it has already stored, so a replay never counts
 * twice.
 */
export const messageIdSchema = z.object({
	boot: bootIdSchema,
	seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type MessageId = z.infer<typeof messageIdSchema>;

export const helloMessageSchema = z.object({
	type: z.literal('hello'),
	host: hostSchema,
	/** This collector's run; tells its own reconnect from another collector claiming the host. */
	boot: bootIdSchema.optional(),
	/** Collector software version, free text (shown in the UI). */
	version: z.string().max(limits.shortString),
	frequencyHz: frequencySchema,
	protocol: z.number().int().min(1).optional(),
});
export const profileMessageSchema = z.object({
	type: z.literal('profile'),
	window: profileWindowSchema,
});
export const profileMessageKind = { queue: 'window', payload: 'window' } as const satisfies MessageKind;
export const liveMessageSchema = z.object({
	type: z.literal('live'),
	stats: liveStatsSchema,
});
/** Superseded by the next snapshot half a second later. */
export const liveMessageKind = { queue: 'live', payload: 'stats' } as const satisfies MessageKind;

/**
 * Collector → hub, one JSON object per WebSocket text message. New kinds (requests,
 * connections) are added as new members of this union; the hub answers an unknown type with
 * an error message instead of closing the connection.
 */
const withId = { id: messageIdSchema.optional() };
export const collectorMessageSchema = z.discriminatedUnion('type', [
	helloMessageSchema,
	profileMessageSchema.extend(withId),
	liveMessageSchema.extend(withId),
	connectionsMessageSchema.extend(withId),
	retransmitWindowMessageSchema.extend(withId),
	requestsMessageSchema.extend(withId),
	requestWindowMessageSchema.extend(withId),
]);
export type HelloMessage = z.infer<typeof helloMessageSchema>;
export type ProfileMessage = z.infer<typeof profileMessageSchema> & { id?: MessageId };
export type LiveMessage = z.infer<typeof liveMessageSchema>;
export type CollectorMessage = z.infer<typeof collectorMessageSchema>;
/** Everything a collector sends after its hello: one signal's snapshot, batch or window. */
export type DataMessage = Exclude<CollectorMessage, HelloMessage>;
export type DataMessageType = DataMessage['type'];

type PayloadOf<T extends DataMessageType> = Exclude<keyof Extract<DataMessage, { type: T }>, 'type'> & string;

/** Each data message type's kind; a type left out here, or a wrong payload field, fails to compile. */
export const messageKinds = {
	profile: profileMessageKind,
	live: liveMessageKind,
	connections: connectionsMessageKind,
	retransmitWindow: retransmitWindowMessageKind,
	requests: requestsMessageKind,
	requestWindow: requestWindowMessageKind,
} as const satisfies { [T in DataMessageType]: MessageKind<PayloadOf<T>> };

export function queueClassOf(message: Pick<DataMessage, 'type'>): QueueClass {
	return messageKinds[message.type].queue;
}

/** The host a data message speaks for (its payload's `host`). */
export function messageHost(message: DataMessage): string {
	const payload = (message as unknown as Record<string, { host: string }>)[messageKinds[message.type].payload];
	return payload!.host;
}

/**
 * Hub → collector replies. `ack` counts accepted messages and, for a message with an id, names
 * it once it is durable (or was already stored): the collector may forget it then. `error`
 * explains a rejected one; with the id of a stored message the collector forgets it too (it will
 * never be accepted).
 */
export const hubReplySchema = z.discriminatedUnion('type', [
	z.object({ type: z.literal('ack'), accepted: z.number().int().min(0), id: messageIdSchema.optional() }),
	z.object({
		type: z.literal('error'),
		code: z.enum(['bad_message', 'not_hello', 'unsupported_version', 'internal']),
		message: z.string().max(4096),
		id: messageIdSchema.optional(),
	}),
]);

/**
 * WebSocket close codes with which the hub ends a collector's connection on purpose; the close
 * reason says why in one line.
 */
export const ingestCloseCodes = {
	/** The hub does not speak the collector's protocol version: retrying cannot help. */
	unsupportedVersion: 4001,
	/** Another collector (another boot id) holds this host name on an open connection. */
	hostInUse: 4002,
	/** A store write failed; the collector reconnects and replays what was not acknowledged. */
	storeFailed: 4003,
} as const;
export type HubReply = z.infer<typeof hubReplySchema>;
