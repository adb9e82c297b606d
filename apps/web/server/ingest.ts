import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { Counter, Gauge } from 'prom-client';
import {
	DEFAULT_REDACTION,
	PROTOCOL_VERSION,
	ingestCloseCodes,
	limits,
	messageIdSchema,
	messageHost,
	parseCollectorMessage,
	type DataMessage,
	type HubReply,
	type MessageId,
	type RedactionRules,
} from '@firesight/protocol';
import type { Storage } from '@firesight/store';
import type { HubState } from './hub-state.ts';
import { CommandLineRedactor, DEFAULT_REDACTOR_CHARS, DEFAULT_REDACTOR_ENTRIES } from './command-line-redactor.ts';
import { ingestRoutes, type IngestRoute, type RouteContext } from './ingest-routes.ts';
import type { HubMetrics } from './metrics.ts';
import { IngestHold } from './ingest-hold.ts';

export interface IngestOptions {
	token: string;
	storage: Pick<Storage, 'profiles' | 'connections' | 'requests' | 'ingested'>;
	state: HubState;
	metrics: HubMetrics;
	/** Which captured headers are secrets; the default list when absent. */
	redaction?: RedactionRules;
	/** Command lines kept redacted; DEFAULT_REDACTOR_ENTRIES when absent. */
	redactedCommandLines?: number;
	/** High-water marks kept in memory (one per host and boot); default limits.hosts. */
	maxMarks?: number;
	/** How often collectors are pinged; one missed pong closes the connection. */
	heartbeatMs: number;
	/**
	 * Messages read from one host's connections and not yet handled, at most: reaching it, the hub
	 * stops reading them, so TCP pushes back on the collector, whose bounded queues and spool count
	 * what they cannot hold. Per host, not per connection: a collector reconnecting to a stalled
	 * store does not add a bound's worth with each connection. Default DEFAULT_MAX_HELD_MESSAGES.
	 */
	maxHeldMessages?: number;
	/** The same bound in bytes. Default DEFAULT_MAX_HELD_BYTES. */
	maxHeldBytes?: number;
	log(line: string): void;
}

/**
 * Above the collector's 32 stored messages in flight, so a hub that keeps up never stops reading;
 * live snapshots and request batches, which are not acknowledged, are what reach it.
 */
export const DEFAULT_MAX_HELD_MESSAGES = 64;
/** Two of the largest messages the wire allows: one being stored, one waiting. */
export const DEFAULT_MAX_HELD_BYTES = 2 * limits.maxMessageBytes;

function heldBytesOf(data: RawData): number {
	if (Array.isArray(data)) return data.reduce((n, b) => n + b.byteLength, 0);
	return data.byteLength;
}

function digest(s: string): Buffer {
	return createHash('sha256').update(s).digest();
}

/** Constant-time token check on `Authorization: Bearer <token>`. */
export function authorized(req: IncomingMessage, token: string): boolean {
	const header = req.headers.authorization ?? '';
	const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
	if (!m) return false;
	// Hashing first gives equal lengths, which timingSafeEqual needs.
	return timingSafeEqual(digest(m[1]!), digest(token));
}

function refuse(socket: Duplex, status: number, reason: string): void {
	socket.end(
		`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\n\r\n${reason}`,
	);
}

/** The id a message that failed validation still names, so the collector can let it go. */
function idOf(text: string): MessageId | undefined {
	try {
		const r = messageIdSchema.safeParse((JSON.parse(text) as { id?: unknown } | null)?.id);
		return r.success ? r.data : undefined;
	} catch {
		return undefined;
	}
}

/**
 * The collector endpoint: token on upgrade, hello first, every message validated. A stored
 * message with an id is acknowledged only once its insert resolved and the ledger recorded it;
 * one the ledger already holds is acknowledged without being stored again. One connection per
 * host name: the same collector (same boot id) reconnecting replaces its old connection,
 * another one is refused while the first is connected.
 */
export class Ingest {
	readonly #wss: WebSocketServer;
	readonly #opts: IngestOptions;
	readonly #alive = new WeakMap<WebSocket, boolean>();
	readonly #timer: NodeJS.Timeout;
	/** Which connection speaks for each host, and its collector's boot id. */
	readonly #holders = new Map<string, { ws: WebSocket; boot: string | undefined }>();
	/**
	 * Stored-message writes per host, one at a time across connections: a collector's replay on a
	 * new connection waits for the old connection's write of the same id, then sees it recorded.
	 */
	readonly #writes = new Map<string, Promise<void>>();
	/** The ledger's high-water marks read so far, by host and boot (kept current by this hub). */
	readonly #marks = new Map<string, number>();
	/** One for every connection: the same processes' command lines come from each collector again and again. */
	readonly #commandLines: CommandLineRedactor;
	/** Messages (and their bytes) read and not yet handled, bounded per host. */
	readonly #hold: IngestHold;

	constructor(opts: IngestOptions) {
		this.#opts = opts;
		this.#hold = new IngestHold(opts.maxHeldMessages ?? DEFAULT_MAX_HELD_MESSAGES, opts.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES);
		const commandLines = (this.#commandLines = new CommandLineRedactor(opts.redaction ?? DEFAULT_REDACTION, {
			...(opts.redactedCommandLines === undefined ? {} : { maxEntries: opts.redactedCommandLines }),
		}));
		new Counter({
			name: 'firesight_hub_command_lines_evicted_total',
			help: `Command lines the hub's redaction cache let go past its bound (by default ${DEFAULT_REDACTOR_ENTRIES} command lines, ${DEFAULT_REDACTOR_CHARS / 1024 / 1024} Mi characters); one seen again is redacted again, nothing is lost`,
			registers: [opts.metrics.registry],
			collect() {
				this.reset();
				this.inc(commandLines.evictions);
			},
		});
		const gauge = (name: string, help: string, read: () => number) =>
			new Gauge({
				name,
				help,
				registers: [opts.metrics.registry],
				collect() {
					this.set(read());
				},
			});
		gauge(
			'firesight_hub_ingest_held_messages',
			'Collector messages read and not yet handled (stored), over all connections',
			() => this.#hold.total.messages,
		);
		gauge(
			'firesight_hub_ingest_held_bytes',
			'Bytes of collector messages read and not yet handled, over all connections',
			() => this.#hold.total.bytes,
		);
		gauge(
			'firesight_hub_ingest_held_peak_messages',
			`The most messages one host's collector connections held at once since the hub started (the hub stops reading them at ${opts.maxHeldMessages ?? DEFAULT_MAX_HELD_MESSAGES})`,
			() => this.#hold.peak.messages,
		);
		const pauses = () => this.#hold.pauses;
		new Counter({
			name: 'firesight_hub_ingest_paused_total',
			help: 'Times the hub stopped reading a collector connection because its store was behind (TCP pushes back; nothing is dropped here, the collector counts what its queues cannot hold)',
			registers: [opts.metrics.registry],
			collect() {
				this.reset();
				this.inc(pauses());
			},
		});
		this.#wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes });
		this.#wss.on('connection', (ws) => this.#connection(ws));
		this.#timer = setInterval(() => {
			for (const ws of this.#wss.clients) {
				if (this.#alive.get(ws) === false) {
					ws.terminate();
					continue;
				}
				this.#alive.set(ws, false);
				ws.ping();
			}
		}, opts.heartbeatMs);
		this.#timer.unref();
	}

	handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
		if (!authorized(req, this.#opts.token)) {
			this.#opts.metrics.unauthorized.inc();
			refuse(socket, 401, 'Unauthorized');
			return;
		}
		this.#wss.handleUpgrade(req, socket, head, (ws) => this.#wss.emit('connection', ws, req));
	}

	#connection(ws: WebSocket): void {
		const { state, metrics, storage, log } = this.#opts;
		const ctx: RouteContext = {
			storage,
			state,
			metrics,
			redaction: this.#opts.redaction ?? DEFAULT_REDACTION,
			commandLines: this.#commandLines,
		};
		metrics.collectorsConnected.inc();
		this.#alive.set(ws, true);
		ws.on('pong', () => {
			this.#alive.set(ws, true);
			if (host !== undefined) state.seen(host);
		});
		let host: string | undefined;
		const held = this.#hold.open(ws);
		let accepted = 0;
		let closing = false;
		// Messages are handled one at a time so windows are stored in the order they were sent.
		let chain = Promise.resolve();
		const reply = (r: HubReply) => {
			if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(r));
		};
		const reject = (reason: string, code: Extract<HubReply, { type: 'error' }>['code'], message: string, id?: MessageId) => {
			metrics.messagesRejected.inc({ reason });
			reply({ type: 'error', code, message, ...(id ? { id } : {}) });
		};

		const close = (code: number, reason: string) => {
			closing = true;
			ws.close(code, reason);
		};
		const release = (name: string) => {
			if (this.#holders.get(name)?.ws !== ws) return false;
			this.#holders.delete(name);
			state.disconnected(name);
			return true;
		};

		const handle = async (data: RawData, isBinary: boolean): Promise<void> => {
			if (closing) {
				// Read before the hub closed the connection on purpose. A stored message comes back from
				// the collector's spool; anything else (a batch of requests) is lost here, and counted.
				if (!isBinary && idOf(data.toString()) === undefined) metrics.messagesRejected.inc({ reason: 'closed' });
				return;
			}
			if (isBinary) return reject('binary', 'bad_message', 'messages must be JSON text');
			const text = data.toString();
			// One bad name or stack costs that field, counted, never the host's whole window.
			const parsed = parseCollectorMessage(text, (reason, n) => metrics.windowRepairs.inc({ reason }, n));
			if (!parsed.ok) {
				metrics.messagesRejected.inc({ reason: 'invalid' });
				// With its id, so the collector lets go of a message that will never be accepted.
				const id = idOf(text);
				return reply({ type: 'error', code: 'bad_message', message: parsed.error, ...(id ? { id } : {}) });
			}
			const msg = parsed.value;
			if (msg.type === 'hello') {
				if (msg.protocol !== undefined && msg.protocol !== PROTOCOL_VERSION) {
					const why = `hub speaks protocol ${PROTOCOL_VERSION}, collector ${msg.protocol}`;
					log(`collector ${msg.host} refused: ${why}`);
					reject('version', 'unsupported_version', why);
					return close(ingestCloseCodes.unsupportedVersion, why);
				}
				const holder = this.#holders.get(msg.host);
				if (holder && holder.ws !== ws) {
					if (msg.boot !== undefined && holder.boot === msg.boot) {
						// The same run back after a network blip, before its old connection timed out:
						// the old one no longer speaks for the host (its close changes nothing).
						this.#holders.delete(msg.host);
						state.disconnected(msg.host);
						holder.ws.terminate();
					} else {
						const why = `host name '${msg.host}' is in use by another collector; give this one another --host`;
						log(`collector refused: ${why} (boot ${msg.boot ?? 'unknown'}, connected: ${holder.boot ?? 'unknown'})`);
						metrics.messagesRejected.inc({ reason: 'host_in_use' });
						return close(ingestCloseCodes.hostInUse, why);
					}
				}
				if (host !== undefined && host !== msg.host) release(host);
				// Marks of the host's earlier runs are read again from the ledger if a spool replays them.
				for (const key of this.#marks.keys())
					if (key.startsWith(`${msg.host}\0`) && key !== `${msg.host}\0${msg.boot}`) this.#marks.delete(key);
				const reconnect = this.#holders.get(msg.host)?.ws === ws;
				this.#holders.set(msg.host, { ws, boot: msg.boot });
				if (!reconnect) state.connected(msg.host, msg.version, msg.frequencyHz);
				host = msg.host;
				this.#hold.join(held, host);
				log(`collector ${host} connected (version ${msg.version}, ${msg.frequencyHz} Hz${msg.boot ? `, boot ${msg.boot}` : ''})`);
			} else if (host === undefined) {
				return reject('no_hello', 'not_hello', 'send hello first');
			} else {
				const sender = messageHost(msg);
				if (sender !== host) {
					return reject('host_mismatch', 'bad_message', `${msg.type} for host '${sender}' on the connection of '${host}'`, msg.id);
				}
				// The table's entry for this type; the cast joins each message to its own entry.
				const route = ingestRoutes[msg.type] as IngestRoute<DataMessage>;
				const message = route.prepare?.(msg, ctx) ?? msg;
				const id = route.persist ? msg.id : undefined;
				let stored: 'stored' | 'replayed' = 'stored';
				try {
					if (id) stored = await this.#storeOnce(host, id, () => route.persist!(message, ctx, id));
					else await route.persist?.(message, ctx, undefined);
				} catch (err) {
					const why = `could not store the ${route.what}: ${(err as Error).message}`;
					if (!id) return reject('store', 'internal', why);
					// Unacknowledged, it stays in the collector's spool: it comes back on the next connection.
					metrics.messagesRejected.inc({ reason: 'store' });
					log(`ingest: ${host}: ${why}; closing so the collector replays it`);
					return close(ingestCloseCodes.storeFailed, why.slice(0, 120));
				}
				state.seen(host);
				if (stored === 'replayed') {
					metrics.messagesReplayed.inc();
					return reply({ type: 'ack', accepted, id: id! });
				}
				route.live?.(message, ctx);
			}
			metrics.messagesIngested.inc({ type: msg.type });
			accepted++;
			reply(msg.type !== 'hello' && msg.id ? { type: 'ack', accepted, id: msg.id } : { type: 'ack', accepted });
		};

		// What this connection reads counts against its host's bound (see IngestHold); reaching it,
		// the hub stops reading: the messages of the read that crossed it still arrive (ws parses a
		// whole read, at most 64 KiB), then TCP holds the rest and the collector's send waits.
		ws.on('message', (data, isBinary) => {
			const bytes = heldBytesOf(data);
			this.#hold.take(held, bytes);
			chain = chain
				.then(() => handle(data, isBinary))
				.catch((err) => {
					// handle() answers every expected failure itself; this is the last guard.
					log(`ingest: unexpected error: ${(err as Error).stack ?? err}`);
				})
				.finally(() => {
					// Pongs are not read while paused: a store that moves counts as a live collector.
					this.#alive.set(ws, true);
					this.#hold.release(held, bytes, (other) => this.#alive.set(other as WebSocket, true));
				});
		});
		ws.on('error', (err) => {
			// Oversized or malformed frames land here; ws closes the socket itself.
			metrics.messagesRejected.inc({ reason: 'protocol' });
			log(`ingest: ${host ?? 'collector'}: ${err.message}`);
		});
		ws.on('close', () => {
			this.#hold.close(held);
			metrics.collectorsConnected.dec();
			// A connection replaced by its collector's reconnect no longer speaks for the host.
			if (host !== undefined && release(host)) log(`collector ${host} disconnected`);
		});
	}

	/**
	 * Runs `persist` unless the ledger has this id stored already, then records it; one at a
	 * time per host. Resolves once both are durable. `persist` stores the id with the message,
	 * so the record only repeats it: a hub that dies between the two still knows the id.
	 */
	#storeOnce(host: string, id: MessageId, persist: () => Promise<void>): Promise<'stored' | 'replayed'> {
		const { ingested } = this.#opts.storage;
		const key = `${host}\0${id.boot}`;
		const run = async (): Promise<'stored' | 'replayed'> => {
			let mark = this.#marks.get(key);
			if (mark === undefined) {
				mark = await ingested.highWater(host, id.boot);
				this.#remember(key, mark);
			}
			if (id.seq <= mark) return 'replayed';
			try {
				await persist();
				await ingested.record(host, id.boot, id.seq);
			} catch (err) {
				// The insert may have landed before the failure (a record that failed, a timeout):
				// the replay must read the mark from the store again, not trust this one.
				this.#marks.delete(key);
				throw err;
			}
			this.#remember(key, id.seq);
			return 'stored';
		};
		const result = (this.#writes.get(host) ?? Promise.resolve()).then(run);
		const tail = result.then(
			() => {},
			() => {},
		);
		this.#writes.set(host, tail);
		void tail.then(() => {
			if (this.#writes.get(host) === tail) this.#writes.delete(host);
		});
		return result;
	}

	/**
	 * A cache of the ledger, bounded: each host name a collector says hello with adds one, and a
	 * forgotten mark is only read from the ledger again on its host's next stored message.
	 */
	#remember(key: string, mark: number): void {
		this.#marks.delete(key);
		this.#marks.set(key, mark);
		const max = this.#opts.maxMarks ?? limits.hosts;
		while (this.#marks.size > max) this.#marks.delete(this.#marks.keys().next().value!);
	}

	/** Closes every collector connection (they reconnect to the next hub). */
	async close(): Promise<void> {
		clearInterval(this.#timer);
		for (const ws of this.#wss.clients) ws.close(1001, 'hub shutting down');
		await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
		// Give close frames a moment, then cut whatever has not gone.
		await new Promise((r) => setTimeout(r, 50));
		for (const ws of this.#wss.clients) ws.terminate();
	}
}
