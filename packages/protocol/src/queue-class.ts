/**
 * How a collector holds a message while the hub is slow or away. `live`: a snapshot or batch the
 * next one supersedes, dropped first under pressure (counted); `window`: stored data that will not
 * come again, dropped only when the queue holds nothing else (counted).
 */
export type QueueClass = 'live' | 'window';

/** What the collector and the hub know of a collector message type, declared beside its schema. */
export interface MessageKind<Payload extends string = string> {
	queue: QueueClass;
	/** The field holding the message's data, which carries the sending `host`. */
	payload: Payload;
}
