import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import {
	MAX_REQUESTS_PER_BATCH,
	MAX_REQUESTS_PER_SECOND,
	MAX_REQUEST_BATCH_WEIGHT,
	PROTOCOL_VERSION,
	hubReplySchema,
	ingestCloseCodes,
	queueClassOf,
	requestWireWeight,
	type DataMessage,
	type DataMessageType,
	type HelloMessage,
	type MessageId,
	type QueueClass,
} from '@firesight/protocol';
import { Spool, type SpoolOptions } from './spool.ts';

export interface HubStreamOptions {
	/** The hub: `http://host:port` or `ws://host:port[/ingest]`. */
	hub: string;
	token: string;
	hello: Omit<HelloMessage, 'type' | 'protocol' | 'boot'>;
	/** Where stored messages wait for the hub's acknowledgement (memory only by default). */
	spool?: Omit<SpoolOptions, 'onDrop' | 'log'>;
	/** Live snapshots held at most; older ones are worthless once a newer one exists. Default 5. */
	maxLiveQueued?: number;
	/**
	 * Captured requests waiting (in batches beside the snapshots) at most; past it the oldest
	 * go, counted one by one. Default MAX_REQUESTS_PER_SECOND: a second of the collector's budget.
	 */
	maxQueuedRequests?: number;
	/** Stored messages sent and not yet acknowledged, at most. Default 32. */
	maxInFlight?: number;
	initialBackoffMs?: number;
	/** Ceiling of the reconnect delay. Default 5 s. */
	maxBackoffMs?: number;
	/** How often the hub is pinged. Default 5 s. */
	pingIntervalMs?: number;
	/** A hub silent (no pong, no reply) this long is taken for hung: the stream reconnects. Default 10 s. */
	pingDeadlineMs?: number;
	log?: (line: string) => void;
}

export interface HubStreamCounters {
	connected: boolean;
	/** Successful connections, the first included. */
	connects: number;
	/** Failed or lost connections. */
	disconnects: number;
	/** Upgrades the hub refused for a missing or wrong token. */
	unauthorized: number;
	/** Connections dropped because the hub stopped answering pings. */
	hubSilent: number;
	/** By queue class (see QueueClass in @firesight/protocol); stored ones again on each replay. */
	sent: Record<QueueClass, number>;
	/** Stored messages this run made (each given an id), by message type. */
	made: Partial<Record<DataMessageType, number>>;
	/** Stored messages the hub acknowledged as durable. */
	acked: number;
	/**
	 * Never reached the hub: live snapshots superseded in a full queue (`live`), stored messages
	 * the spool's cap dropped (oldest first) or a memory-only spool still held at close
	 * (`window`), and captured requests past maxQueuedRequests or still waiting at close
	 * (`requests`, counted by request, not by batch), and captured requests written to a
	 * connection that ended before the hub answered them (`requestsUnconfirmed`: the hub may have
	 * stored some; requests are not kept for a replay).
	 */
	dropped: Record<QueueClass | 'requests' | 'requestsUnconfirmed', number>;
	/** Messages the hub answered with an error. */
	rejected: number;
	/** Messages waiting: live snapshots plus the spool. */
	queued: number;
	/** Stored messages the hub has not acknowledged, and their bytes. */
	spooled: number;
	spooledBytes: number;
}

export interface HubStreamEvents {
	connected: [];
	disconnected: [reason: string];
	/** The hub answered a message with an error (bad input on our side: a bug worth logging). */
	rejected: [code: string, message: string];
	/** The hub refused the token (HTTP 401). The stream keeps retrying; the owner decides whether to give up. */
	unauthorized: [reason: string];
	/**
	 * The hub closed the connection on purpose (see ingestCloseCodes): an unsupported protocol
	 * version (retrying cannot help; the owner should stop) or a host name another collector holds
	 * (retried slowly: it may be gone soon).
	 */
	refused: [code: number, reason: string];
}

/** `http://h:p` → `ws://h:p/ingest`; keeps an explicit ws URL and path. */
export function ingestUrl(hub: string): string {
	const url = new URL(hub);
	if (url.protocol === 'http:') url.protocol = 'ws:';
	else if (url.protocol === 'https:') url.protocol = 'wss:';
	else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error(`unsupported hub URL '${hub}'`);
	if (url.pathname === '/' || url.pathname === '') url.pathname = '/ingest';
	return url.toString();
}

/**
 * The collector's connection to its hub. Stored messages (queue class `window`) get an id and
 * wait in a bounded spool until the hub acknowledges them as durable; on each connection the
 * spool is sent again from its oldest message, and the hub ignores ids it has. Live snapshots
 * wait in a small queue of their own and are superseded. The connection comes back by itself
 * with exponential backoff and jitter, says hello again each time, and is given up for a new
 * one when the hub stops answering pings.
 */
export class HubStream extends EventEmitter<HubStreamEvents> {
	readonly url: string;
	readonly spool: Spool;
	readonly #opts: Required<Omit<HubStreamOptions, 'log' | 'spool'>> & { log: (line: string) => void };
	readonly #live: DataMessage[] = [];
	/** requestWireWeight summed over a queued batch's requests: weighed once, not at every merge. */
	readonly #batchWeights = new WeakMap<readonly unknown[], number>();
	#ws: WebSocket | undefined;
	#ready = false;
	#liveSending = false;
	/** Spool entries sent on this connection (the oldest ones), awaiting their acks. */
	#inFlight = 0;
	/**
	 * Every message written to this connection that the hub has not answered yet, oldest first,
	 * with the requests it carries: the hub answers each message once, in order (ack or error).
	 */
	#unanswered: { requests: number; written: boolean }[] = [];
	#attempt = 0;
	#timer: NodeJS.Timeout | undefined;
	#pinger: NodeJS.Timeout | undefined;
	#closed = false;
	#lastError = '';
	#lastRefusal = '';
	readonly #counters: Omit<HubStreamCounters, 'connected' | 'queued' | 'spooled' | 'spooledBytes'> = {
		connects: 0,
		disconnects: 0,
		unauthorized: 0,
		hubSilent: 0,
		sent: { window: 0, live: 0 },
		made: {},
		acked: 0,
		dropped: { window: 0, live: 0, requests: 0, requestsUnconfirmed: 0 },
		rejected: 0,
	};

	constructor(options: HubStreamOptions) {
		super();
		this.url = ingestUrl(options.hub);
		const { spool, ...rest } = options;
		this.#opts = {
			maxLiveQueued: 5,
			maxQueuedRequests: MAX_REQUESTS_PER_SECOND,
			maxInFlight: 32,
			initialBackoffMs: 100,
			maxBackoffMs: 5000,
			pingIntervalMs: 5000,
			pingDeadlineMs: 10_000,
			log: () => {},
			...rest,
		};
		if (this.#opts.maxLiveQueued < 1) throw new RangeError('maxLiveQueued must be at least 1');
		this.spool = new Spool({
			...spool,
			log: this.#opts.log,
			onDrop: () => {
				this.#counters.dropped.window++;
			},
		});
		this.#connect();
	}

	get counters(): HubStreamCounters {
		return {
			...this.#counters,
			sent: { ...this.#counters.sent },
			made: { ...this.#counters.made },
			dropped: { ...this.#counters.dropped },
			connected: this.#ready,
			queued: this.#live.length + this.spool.length,
			spooled: this.spool.length,
			spooledBytes: this.spool.bytes,
		};
	}

	/** A stored message goes to the spool under a new id; a live one to the superseded queue. */
	send(message: DataMessage): void {
		if (this.#closed) return;
		if (queueClassOf(message) === 'window') {
			const before = this.spool.length;
			try {
				this.spool.add(message);
			} catch (err) {
				// A full or broken disk: the message is lost, and counted.
				this.#counters.dropped.window++;
				this.#opts.log(`spool: ${(err as Error).message}`);
				return;
			}
			this.#counters.made[message.type] = (this.#counters.made[message.type] ?? 0) + 1;
			// The cap dropped entries already on the wire: they are no longer in flight.
			this.#inFlight = Math.max(0, this.#inFlight - Math.max(0, before + 1 - this.spool.length));
		} else if (message.type === 'requests') {
			const fitted = this.#makeRoomForRequests(message);
			if (fitted.batch.requests.length > 0 || fitted.batch.omitted > 0) {
				if (!this.#mergeRequests(fitted)) this.#live.push(fitted);
			}
		} else {
			// A snapshot is superseded by the next one of its kind, a batch of requests by nothing:
			// requests have a bound of their own (maxQueuedRequests), snapshots this one.
			// Index 0 may be on the wire; it leaves in its send callback.
			const first = this.#liveSending ? 1 : 0;
			if (this.#live.filter((m) => m.type !== 'requests').length >= this.#opts.maxLiveQueued) {
				const i = this.#live.findIndex((m, k) => k >= first && m.type !== 'requests');
				if (i >= 0) {
					this.#live.splice(i, 1);
					this.#counters.dropped.live++;
				}
			}
			this.#live.push(message);
		}
		this.#pump();
	}

	/**
	 * Keeps the requests waiting (not on the wire) within maxQueuedRequests once `message` joins
	 * them: the oldest go first, counted one by one, then the front of `message` itself.
	 */
	#makeRoomForRequests(message: Extract<DataMessage, { type: 'requests' }>): Extract<DataMessage, { type: 'requests' }> {
		const first = this.#liveSending ? 1 : 0;
		let waiting = 0;
		for (let k = first; k < this.#live.length; k++) {
			const m = this.#live[k]!;
			if (m.type === 'requests') waiting += m.batch.requests.length;
		}
		let excess = waiting + message.batch.requests.length - this.#opts.maxQueuedRequests;
		for (let k = first; excess > 0 && k < this.#live.length; k++) {
			const m = this.#live[k]!;
			if (m.type !== 'requests') continue;
			const cut = Math.min(excess, m.batch.requests.length);
			this.#live[k] = { ...m, batch: { ...m.batch, requests: m.batch.requests.slice(cut) } };
			this.#counters.dropped.requests += cut;
			excess -= cut;
		}
		// Emptied batches leave; what they said was omitted travels on with the newest.
		let omitted = 0;
		for (let k = this.#live.length - 1; k >= first; k--) {
			const m = this.#live[k]!;
			if (m.type === 'requests' && m.batch.requests.length === 0) {
				omitted += m.batch.omitted;
				this.#live.splice(k, 1);
			}
		}
		if (excess <= 0 && omitted === 0) return message;
		const cut = Math.max(0, excess);
		this.#counters.dropped.requests += cut;
		return {
			...message,
			batch: { ...message.batch, requests: message.batch.requests.slice(cut), omitted: message.batch.omitted + omitted },
		};
	}

	/**
	 * Requests come in a batch per ring-buffer drain, several a second: one that finds another of
	 * its host still waiting (not on the wire) joins it, as long as the two fit one batch, so a
	 * slow connection sends fewer, fuller batches instead of dropping some. True when merged.
	 */
	#mergeRequests(message: DataMessage): boolean {
		if (message.type !== 'requests') return false;
		const first = this.#liveSending ? 1 : 0;
		for (let k = this.#live.length - 1; k >= first; k--) {
			const queued = this.#live[k]!;
			if (queued.type !== 'requests' || queued.batch.host !== message.batch.host) continue;
			if (queued.batch.requests.length + message.batch.requests.length > MAX_REQUESTS_PER_BATCH) return false;
			const weight = this.#weight(queued.batch.requests) + this.#weight(message.batch.requests);
			if (weight > MAX_REQUEST_BATCH_WEIGHT) return false;
			const requests = [...queued.batch.requests, ...message.batch.requests];
			this.#batchWeights.set(requests, weight);
			this.#live[k] = {
				...queued,
				batch: { ...message.batch, requests, omitted: queued.batch.omitted + message.batch.omitted },
			};
			return true;
		}
		return false;
	}

	#weight(requests: Extract<DataMessage, { type: 'requests' }>['batch']['requests']): number {
		let weight = this.#batchWeights.get(requests);
		if (weight === undefined) {
			weight = 0;
			for (const r of requests) weight += requestWireWeight(r);
			this.#batchWeights.set(requests, weight);
		}
		return weight;
	}

	/** Sends what the connection may take: live snapshots one at a time, the spool up to maxInFlight unacknowledged. */
	#pump(): void {
		const ws = this.#ws;
		if (!this.#ready || !ws || ws.readyState !== WebSocket.OPEN) return;
		while (this.#inFlight < this.#opts.maxInFlight && this.#inFlight < this.spool.length) {
			const entry = this.spool.at(this.#inFlight)!;
			this.#inFlight++;
			this.#unanswered.push({ requests: 0, written: true });
			ws.send(this.spool.text(entry));
			this.#counters.sent.window++;
		}
		if (this.#liveSending || this.#live.length === 0) return;
		const msg = this.#live[0]!;
		this.#liveSending = true;
		const sent = { requests: msg.type === 'requests' ? msg.batch.requests.length : 0, written: false };
		this.#unanswered.push(sent);
		ws.send(JSON.stringify(msg), (err) => {
			this.#liveSending = false;
			if (err) return; // the close handler reconnects; the message stays first in line
			sent.written = true;
			if (this.#live[0] === msg) this.#live.shift();
			this.#counters.sent.live++;
			this.#pump();
		});
	}

	/** The hub is done with a stored message (stored, or refused for good): it leaves the spool. */
	#settle(id: MessageId): void {
		const index = this.#indexOf(id);
		if (index < 0) return;
		this.spool.remove(id);
		if (index < this.#inFlight) this.#inFlight--;
	}

	#indexOf(id: MessageId): number {
		for (let i = 0; i < this.spool.length; i++) {
			const e = this.spool.at(i)!;
			if (e.id.seq === id.seq && e.id.boot === id.boot) return i;
		}
		return -1;
	}

	#connect(): void {
		if (this.#closed) return;
		const ws = new WebSocket(this.url, {
			headers: { authorization: `Bearer ${this.#opts.token}` },
			handshakeTimeout: 5000,
		});
		this.#ws = ws;
		let heard = Date.now();
		const hear = () => {
			heard = Date.now();
		};
		ws.on('open', () => {
			const hello: HelloMessage = { type: 'hello', protocol: PROTOCOL_VERSION, boot: this.spool.boot, ...this.#opts.hello };
			this.#unanswered = [{ requests: 0, written: true }];
			ws.send(JSON.stringify(hello));
			this.#attempt = 0;
			this.#ready = true;
			this.#lastError = '';
			this.#inFlight = 0;
			this.#counters.connects++;
			// A refused collector retries quietly: it says it is in once the hub answers its hello.
			if (!this.#lastRefusal) {
				this.#opts.log(`connected to ${this.url}${this.spool.length ? ` (${this.spool.length} stored messages to send)` : ''}`);
			}
			hear();
			// A hung hub (stopped, or its machine gone) keeps the TCP connection open: only
			// silence tells, and what was written to it must be sent again elsewhere.
			const { pingIntervalMs, pingDeadlineMs } = this.#opts;
			this.#pinger = setInterval(
				() => {
					if (Date.now() - heard > pingDeadlineMs) {
						this.#counters.hubSilent++;
						this.#lastError = `hub stopped answering (no pong in ${pingDeadlineMs / 1000} s)`;
						ws.terminate();
						return;
					}
					ws.ping();
				},
				Math.min(pingIntervalMs, pingDeadlineMs / 2),
			);
			this.#pinger.unref();
			this.emit('connected');
			this.#pump();
		});
		ws.on('pong', hear);
		ws.on('message', (data) => {
			hear();
			let parsed;
			try {
				parsed = hubReplySchema.safeParse(JSON.parse(data.toString()));
			} catch {
				return;
			}
			if (!parsed.success) return;
			const reply = parsed.data;
			this.#unanswered.shift();
			if (reply.type === 'ack') {
				if (this.#lastRefusal) {
					this.#lastRefusal = '';
					this.#opts.log(`connected to ${this.url}: the hub took this collector after refusing it`);
				}
				if (reply.id) {
					this.#counters.acked++;
					this.#settle(reply.id);
					this.#pump();
				}
				return;
			}
			this.#counters.rejected++;
			this.#opts.log(`hub rejected a message: ${reply.code}: ${reply.message}`);
			// Refused for good: sending it again would only be refused again.
			if (reply.id) {
				this.#settle(reply.id);
				this.#pump();
			}
			this.emit('rejected', reply.code, reply.message);
		});
		ws.on('unexpected-response', (_req, res) => {
			const status = res.statusCode ?? 0;
			if (status === 401) this.#counters.unauthorized++;
			this.#lastError = status === 401 ? 'hub refused the token (401)' : `hub answered HTTP ${status}`;
			res.resume();
			ws.terminate();
			// Told apart from an unreachable hub: a wrong token does not fix itself by retrying.
			if (status === 401) this.emit('unauthorized', this.#lastError);
		});
		ws.on('error', (err) => {
			if (!this.#lastError) this.#lastError = err.message || String(err);
		});
		ws.on('close', (code, reasonBytes) => {
			const wasReady = this.#ready;
			this.#ready = false;
			this.#liveSending = false;
			this.#inFlight = 0;
			// Stored messages come back from the spool; requests are gone with the connection unless
			// the hub read them before it ended: said as unconfirmed, never silently.
			for (const m of this.#unanswered) if (m.written) this.#counters.dropped.requestsUnconfirmed += m.requests;
			this.#unanswered = [];
			if (this.#pinger) clearInterval(this.#pinger);
			this.#pinger = undefined;
			if (this.#ws === ws) this.#ws = undefined;
			if (this.#closed) return;
			this.#counters.disconnects++;
			const said = reasonBytes.toString();
			let refused = false;
			if (code === ingestCloseCodes.unsupportedVersion || code === ingestCloseCodes.hostInUse) {
				refused = true;
				this.#lastError = `the hub refused this collector: ${said}`;
				// Said once per reason: a refused collector retries quietly.
				if (this.#lastError !== this.#lastRefusal) this.#opts.log(this.#lastError);
				this.#lastRefusal = this.#lastError;
				this.emit('refused', code, said);
			} else if (code === ingestCloseCodes.storeFailed) {
				this.#lastError = `the hub could not store a message (${said}); sending it again`;
			}
			const reason = this.#lastError || (said ? `closed: ${said}` : 'connection closed');
			if (wasReady && !refused) {
				this.#opts.log(`lost the hub: ${reason}`);
				this.emit('disconnected', reason);
			}
			this.#lastError = '';
			if (refused) this.#attempt = Math.max(this.#attempt, 30);
			this.#scheduleReconnect(reason);
		});
	}

	#scheduleReconnect(reason: string): void {
		const { initialBackoffMs, maxBackoffMs } = this.#opts;
		const ceiling = Math.min(maxBackoffMs, initialBackoffMs * 2 ** this.#attempt);
		// Jitter in [ceiling/2, ceiling) keeps a fleet of collectors from reconnecting in lockstep.
		const delay = ceiling / 2 + Math.random() * (ceiling / 2);
		if (this.#attempt === 3) this.#opts.log(`hub unreachable (${reason}); retrying every few seconds`);
		this.#attempt++;
		this.#timer = setTimeout(() => this.#connect(), delay);
		this.#timer.unref();
	}

	/**
	 * Waits up to `flushMs` for the hub to acknowledge what is spooled and for live snapshots to
	 * reach the socket (connecting first if need be), then closes. A spool on disk keeps what is
	 * left for the next start; what a memory-only spool still holds, and live snapshots, are
	 * counted as dropped.
	 */
	async close(flushMs = 1000): Promise<void> {
		const deadline = Date.now() + flushMs;
		// Not only while connected: a stream closed right after start may still be connecting.
		while ((this.#live.length > 0 || this.spool.length > 0) && Date.now() < deadline) {
			await new Promise((r) => setTimeout(r, 10));
		}
		this.#closed = true;
		if (this.#timer) clearTimeout(this.#timer);
		if (this.#pinger) clearInterval(this.#pinger);
		for (const m of this.#live) {
			if (m.type === 'requests') this.#counters.dropped.requests += m.batch.requests.length;
			else this.#counters.dropped.live++;
		}
		this.#live.length = 0;
		const left = this.spool.length;
		if (this.spool.dir === undefined) this.#counters.dropped.window += left;
		this.spool.close();
		// What this run made and what became of it: the operator's check that nothing was lost.
		const c = this.#counters;
		const made = Object.entries(c.made).map(([type, n]) => `${type} ${n}`);
		if (made.length > 0 || left > 0) {
			const kept = this.spool.dir === undefined ? '' : `, ${left} left in ${this.spool.dir} for the next start`;
			this.#opts.log(`stored messages made: ${made.join(', ') || 'none'}; ${c.acked} acknowledged, ${c.dropped.window} dropped${kept}`);
		}
		const ws = this.#ws;
		this.#ready = false;
		if (!ws) return;
		await new Promise<void>((resolve) => {
			if (ws.readyState === WebSocket.CLOSED) return resolve();
			ws.once('close', () => resolve());
			if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
			else ws.close(1000, 'collector stopping');
			setTimeout(() => {
				ws.terminate();
				resolve();
			}, 500).unref();
		});
	}
}
