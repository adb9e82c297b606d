import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import {
	PROTOCOL_VERSION,
	hubReplySchema,
	queueClassOf,
	type DataMessage,
	type HelloMessage,
	type QueueClass,
} from '@firesight/protocol';

export interface HubStreamOptions {
	/** The hub: `http://host:port` or `ws://host:port[/ingest]`. */
	hub: string;
	token: string;
	hello: Omit<HelloMessage, 'type' | 'protocol'>;
	/** Messages held while the hub is away or slow. Default 64 (over 10 minutes of 10 s windows). */
	maxQueue?: number;
	/** Live snapshots held at most; older ones are worthless once a newer one exists. Default 5. */
	maxLiveQueued?: number;
	initialBackoffMs?: number;
	/** Ceiling of the reconnect delay. Default 5 s. */
	maxBackoffMs?: number;
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
	/** By queue class (see QueueClass in @firesight/protocol). */
	sent: Record<QueueClass, number>;
	/** Dropped from a full queue, never sent. */
	dropped: Record<QueueClass, number>;
	/** Messages the hub answered with an error. */
	rejected: number;
	queued: number;
}

export interface HubStreamEvents {
	connected: [];
	disconnected: [reason: string];
	/** The hub answered a message with an error (bad input on our side: a bug worth logging). */
	rejected: [code: string, message: string];
	/** The hub refused the token (HTTP 401). The stream keeps retrying; the owner decides whether to give up. */
	unauthorized: [reason: string];
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
 * The collector's connection to its hub. Messages go through a bounded queue, so a slow or
 * absent hub costs counted drops, never memory; the connection comes back by itself with
 * exponential backoff and jitter, and says hello again each time.
 */
export class HubStream extends EventEmitter<HubStreamEvents> {
	readonly url: string;
	readonly #opts: Required<Omit<HubStreamOptions, 'log'>> & { log: (line: string) => void };
	readonly #queue: DataMessage[] = [];
	#ws: WebSocket | undefined;
	#ready = false;
	#sending = false;
	#attempt = 0;
	#timer: NodeJS.Timeout | undefined;
	#closed = false;
	#lastError = '';
	readonly #counters: Omit<HubStreamCounters, 'connected' | 'queued'> = {
		connects: 0,
		disconnects: 0,
		unauthorized: 0,
		sent: { window: 0, live: 0 },
		dropped: { window: 0, live: 0 },
		rejected: 0,
	};

	constructor(options: HubStreamOptions) {
		super();
		this.url = ingestUrl(options.hub);
		this.#opts = {
			maxQueue: 64,
			maxLiveQueued: 5,
			initialBackoffMs: 100,
			maxBackoffMs: 5000,
			log: () => {},
			...options,
		};
		if (this.#opts.maxQueue < 1) throw new RangeError('maxQueue must be at least 1');
		this.#connect();
	}

	get counters(): HubStreamCounters {
		return {
			...this.#counters,
			sent: { ...this.#counters.sent },
			dropped: { ...this.#counters.dropped },
			connected: this.#ready,
			queued: this.#queue.length,
		};
	}

	/** Queues a message as its type's queue class says (live: superseded, window: kept longest). */
	send(message: DataMessage): void {
		if (this.#closed) return;
		const q = this.#queue;
		if (queueClassOf(message) === 'live') {
			let live = 0;
			for (const m of q) if (queueClassOf(m) === 'live') live++;
			if (live >= this.#opts.maxLiveQueued) this.#dropOldest('live');
		}
		if (q.length >= this.#opts.maxQueue) {
			// Live stats are superseded every second; a window is data that will not come again.
			if (!this.#dropOldest('live')) this.#dropOldest('window');
		}
		q.push(message);
		this.#pump();
	}

	#dropOldest(type: QueueClass): boolean {
		// Index 0 may be in flight; it is removed by its send callback, not here.
		const start = this.#sending ? 1 : 0;
		for (let i = start; i < this.#queue.length; i++) {
			if (queueClassOf(this.#queue[i]!) === type) {
				this.#queue.splice(i, 1);
				this.#counters.dropped[type]++;
				return true;
			}
		}
		if (type === 'window' && this.#queue.length > start) {
			const [m] = this.#queue.splice(start, 1);
			this.#counters.dropped[queueClassOf(m!)]++;
			return true;
		}
		return false;
	}

	/** Sends one message at a time: the next goes when the socket has taken the previous. */
	#pump(): void {
		if (!this.#ready || this.#sending || this.#queue.length === 0) return;
		const ws = this.#ws;
		const msg = this.#queue[0]!;
		if (!ws || ws.readyState !== WebSocket.OPEN) return;
		this.#sending = true;
		ws.send(JSON.stringify(msg), (err) => {
			this.#sending = false;
			if (err) return; // the close handler reconnects; the message stays first in line
			if (this.#queue[0] === msg) this.#queue.shift();
			this.#counters.sent[queueClassOf(msg)]++;
			this.#pump();
		});
	}

	#connect(): void {
		if (this.#closed) return;
		const ws = new WebSocket(this.url, {
			headers: { authorization: `Bearer ${this.#opts.token}` },
			handshakeTimeout: 5000,
		});
		this.#ws = ws;
		ws.on('open', () => {
			const hello: HelloMessage = { type: 'hello', protocol: PROTOCOL_VERSION, ...this.#opts.hello };
			ws.send(JSON.stringify(hello));
			this.#attempt = 0;
			this.#ready = true;
			this.#lastError = '';
			this.#counters.connects++;
			this.#opts.log(`connected to ${this.url}`);
			this.emit('connected');
			this.#pump();
		});
		ws.on('message', (data) => {
			let parsed;
			try {
				parsed = hubReplySchema.safeParse(JSON.parse(data.toString()));
			} catch {
				return;
			}
			if (parsed.success && parsed.data.type === 'error') {
				this.#counters.rejected++;
				this.#opts.log(`hub rejected a message: ${parsed.data.code}: ${parsed.data.message}`);
				this.emit('rejected', parsed.data.code, parsed.data.message);
			}
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
		ws.on('close', () => {
			const wasReady = this.#ready;
			this.#ready = false;
			this.#sending = false;
			if (this.#ws === ws) this.#ws = undefined;
			if (this.#closed) return;
			this.#counters.disconnects++;
			const reason = this.#lastError || 'connection closed';
			if (wasReady) {
				this.#opts.log(`lost the hub: ${reason}`);
				this.emit('disconnected', reason);
			}
			this.#lastError = '';
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
	 * Waits up to `flushMs` for queued messages to reach the socket (connecting first if need
	 * be), then closes. Whatever is
	 * still queued after that is counted as dropped.
	 */
	async close(flushMs = 1000): Promise<void> {
		const deadline = Date.now() + flushMs;
		// Not only while connected: a stream closed right after start may still be connecting.
		while (this.#queue.length > 0 && Date.now() < deadline) {
			await new Promise((r) => setTimeout(r, 10));
		}
		this.#closed = true;
		if (this.#timer) clearTimeout(this.#timer);
		for (const m of this.#queue) this.#counters.dropped[queueClassOf(m)]++;
		this.#queue.length = 0;
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
