import { z } from 'zod';
import {
	connectionsMessageKind,
	connectionsMessageSchema,
	retransmitWindowMessageKind,
	retransmitWindowMessageSchema,
} from './connections.ts';
import { liveStatsSchema } from './live.ts';
import type { MessageKind, QueueClass } from './queue-class.ts';
import {
	requestWindowMessageKind,
	requestWindowMessageSchema,
	requestsMessageKind,
	requestsMessageSchema,
} from './requests.ts';
import { frequencySchema, hostSchema, profileWindowSchema } from './profile-window.ts';
import { limits } from './limits.ts';

/** Version of the collector→hub protocol; the hub refuses a hello with another major. */
export const PROTOCOL_VERSION = 1;

export const helloMessageSchema = z.object({
	type: z.literal('hello'),
	host: hostSchema,
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
export const collectorMessageSchema = z.discriminatedUnion('type', [
	helloMessageSchema,
	profileMessageSchema,
	liveMessageSchema,
	connectionsMessageSchema,
	retransmitWindowMessageSchema,
	requestsMessageSchema,
	requestWindowMessageSchema,
]);
export type HelloMessage = z.infer<typeof helloMessageSchema>;
export type ProfileMessage = z.infer<typeof profileMessageSchema>;
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

/** Hub → collector replies. `ack` counts accepted messages; `error` explains a rejected one. */
export const hubReplySchema = z.discriminatedUnion('type', [
	z.object({ type: z.literal('ack'), accepted: z.number().int().min(0) }),
	z.object({
		type: z.literal('error'),
		code: z.enum(['bad_message', 'not_hello', 'unsupported_version', 'internal']),
		message: z.string().max(4096),
	}),
]);
export type HubReply = z.infer<typeof hubReplySchema>;
