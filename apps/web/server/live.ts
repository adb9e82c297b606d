import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LiveServerMessage } from '@firesight/protocol';
import type { HubState } from './hub-state.ts';
import type { HubMetrics } from './metrics.ts';

export interface LiveOptions {
	state: HubState;
	metrics: HubMetrics;
	/** Unsent bytes a browser may fall behind by before it is dropped (it reconnects and backfills). */
	maxBufferedBytes: number;
	/** Status heartbeat, so a browser can tell a quiet hub from a dead one. */
	statusEveryMs: number;
}

/** The browser endpoint: host status, and whatever the hub state publishes, pushed as it comes. */
export class LiveStream {
	readonly #wss: WebSocketServer;
	readonly #opts: LiveOptions;
	readonly #timer: NodeJS.Timeout;
	readonly #onStatus = () => this.broadcast(this.#status());
	readonly #onMessage = (msg: LiveServerMessage) => this.broadcast(msg);

	constructor(opts: LiveOptions) {
		this.#opts = opts;
		// Browsers send nothing but control frames; a small limit keeps them from sending more.
		this.#wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
		this.#wss.on('connection', (ws) => this.#connection(ws));
		opts.state.on('status', this.#onStatus);
		opts.state.on('message', this.#onMessage);
		this.#timer = setInterval(this.#onStatus, opts.statusEveryMs);
		this.#timer.unref();
	}

	handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
		this.#wss.handleUpgrade(req, socket, head, (ws) => this.#wss.emit('connection', ws, req));
	}

	get clients(): number {
		return this.#wss.clients.size;
	}

	#status(): LiveServerMessage {
		return { type: 'status', hosts: this.#opts.state.hosts() };
	}

	#connection(ws: WebSocket): void {
		const { metrics, state } = this.#opts;
		metrics.browsersConnected.inc();
		ws.on('close', () => metrics.browsersConnected.dec());
		ws.on('error', () => ws.terminate());
		ws.on('message', () => {
			// Nothing to say to the hub over this socket; ignore rather than close.
		});
		// Joining the client set happened before this callback (subscribe), so the backfill below
		// cannot miss an update; a snapshot sent twice is harmless (the page keys rows by host).
		this.#send(ws, this.#status());
		for (const msg of state.backfill()) this.#send(ws, msg);
	}

	broadcast(msg: LiveServerMessage): void {
		if (this.#wss.clients.size === 0) return;
		const text = JSON.stringify(msg);
		for (const ws of this.#wss.clients) this.#send(ws, text);
	}

	#send(ws: WebSocket, msg: LiveServerMessage | string): void {
		if (ws.readyState !== ws.OPEN) return;
		if (ws.bufferedAmount > this.#opts.maxBufferedBytes) {
			// The browser is not reading; holding more for it would grow without bound.
			this.#opts.metrics.browsersDropped.inc();
			ws.terminate();
			return;
		}
		ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
	}

	async close(): Promise<void> {
		clearInterval(this.#timer);
		this.#opts.state.off('status', this.#onStatus);
		this.#opts.state.off('message', this.#onMessage);
		for (const ws of this.#wss.clients) ws.close(1001, 'hub shutting down');
		await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
		await new Promise((r) => setTimeout(r, 50));
		for (const ws of this.#wss.clients) ws.terminate();
	}
}
