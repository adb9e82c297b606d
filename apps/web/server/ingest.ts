import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
	DEFAULT_REDACTION,
	PROTOCOL_VERSION,
	limits,
	messageHost,
	parseCollectorMessage,
	type DataMessage,
	type HubReply,
	type RedactionRules,
} from '@firesight/protocol';
import type { Storage } from '@firesight/store';
import type { HubState } from './hub-state.ts';
import { ingestRoutes, type IngestRoute, type RouteContext } from './ingest-routes.ts';
import type { HubMetrics } from './metrics.ts';

export interface IngestOptions {
	token: string;
	storage: Pick<Storage, 'profiles' | 'connections' | 'requests'>;
	state: HubState;
	metrics: HubMetrics;
	/** Which captured headers are secrets; the default list when absent. */
	redaction?: RedactionRules;
	/** How often collectors are pinged; one missed pong closes the connection. */
	heartbeatMs: number;
	log(line: string): void;
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

/** The collector endpoint: token on upgrade, hello first, every message validated. */
export class Ingest {
	readonly #wss: WebSocketServer;
	readonly #opts: IngestOptions;
	readonly #alive = new WeakMap<WebSocket, boolean>();
	readonly #timer: NodeJS.Timeout;

	constructor(opts: IngestOptions) {
		this.#opts = opts;
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
		const ctx: RouteContext = { storage, state, metrics, redaction: this.#opts.redaction ?? DEFAULT_REDACTION };
		metrics.collectorsConnected.inc();
		this.#alive.set(ws, true);
		ws.on('pong', () => {
			this.#alive.set(ws, true);
			if (host !== undefined) state.seen(host);
		});
		let host: string | undefined;
		let accepted = 0;
		// Messages are handled one at a time so windows are stored in the order they were sent.
		let chain = Promise.resolve();
		const reply = (r: HubReply) => {
			if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(r));
		};
		const reject = (reason: string, code: Extract<HubReply, { type: 'error' }>['code'], message: string) => {
			metrics.messagesRejected.inc({ reason });
			reply({ type: 'error', code, message });
		};

		const handle = async (data: RawData, isBinary: boolean): Promise<void> => {
			if (isBinary) return reject('binary', 'bad_message', 'messages must be JSON text');
			// One bad name or stack costs that field, counted, never the host's whole window.
			const parsed = parseCollectorMessage(data.toString(), (reason, n) => metrics.windowRepairs.inc({ reason }, n));
			if (!parsed.ok) return reject('invalid', 'bad_message', parsed.error);
			const msg = parsed.value;
			if (msg.type === 'hello') {
				if (msg.protocol !== undefined && msg.protocol !== PROTOCOL_VERSION) {
					return reject('version', 'unsupported_version', `hub speaks protocol ${PROTOCOL_VERSION}, collector ${msg.protocol}`);
				}
				if (host !== undefined && host !== msg.host) state.disconnected(host);
				if (host !== msg.host) state.connected(msg.host, msg.version, msg.frequencyHz);
				host = msg.host;
				log(`collector ${host} connected (version ${msg.version}, ${msg.frequencyHz} Hz)`);
			} else if (host === undefined) {
				return reject('no_hello', 'not_hello', 'send hello first');
			} else {
				const sender = messageHost(msg);
				if (sender !== host) {
					return reject('host_mismatch', 'bad_message', `${msg.type} for host '${sender}' on the connection of '${host}'`);
				}
				// The table's entry for this type; the cast joins each message to its own entry.
				const route = ingestRoutes[msg.type] as IngestRoute<DataMessage>;
				const message = route.prepare?.(msg, ctx) ?? msg;
				try {
					await route.persist?.(message, ctx);
				} catch (err) {
					return reject('store', 'internal', `could not store the ${route.what}: ${(err as Error).message}`);
				}
				state.seen(host);
				route.live?.(message, ctx);
			}
			metrics.messagesIngested.inc({ type: msg.type });
			accepted++;
			reply({ type: 'ack', accepted });
		};

		ws.on('message', (data, isBinary) => {
			chain = chain.then(() => handle(data, isBinary)).catch((err) => {
				// handle() answers every expected failure itself; this is the last guard.
				log(`ingest: unexpected error: ${(err as Error).stack ?? err}`);
			});
		});
		ws.on('error', (err) => {
			// Oversized or malformed frames land here; ws closes the socket itself.
			metrics.messagesRejected.inc({ reason: 'protocol' });
			log(`ingest: ${host ?? 'collector'}: ${err.message}`);
		});
		ws.on('close', () => {
			metrics.collectorsConnected.dec();
			if (host !== undefined) {
				log(`collector ${host} disconnected`);
				state.disconnected(host);
			}
		});
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
