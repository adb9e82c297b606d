import { backoffDelay } from './backoff.ts';
import { parseLiveMessage, type LiveServerMessage } from './live-messages.ts';

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface LiveSocketEvents {
	onMessage(message: LiveServerMessage): void;
	onState(state: ConnectionState, detail: { retryAt: number | null; attempt: number }): void;
}

/** The hub sends `status` every 2 s; silence longer than this means a half-open socket. */
const STALE_AFTER_MS = 6_000;

/**
 * One WebSocket to the hub's `/live` stream that keeps itself connected: it reconnects with
 * backoff after a close, and treats a silent socket as dead.
 */
export class LiveSocket {
	#url: string;
	#events: LiveSocketEvents;
	#socket: WebSocket | null = null;
	#attempt = 0;
	#retryTimer: ReturnType<typeof setTimeout> | null = null;
	#staleTimer: ReturnType<typeof setTimeout> | null = null;
	#stopped = false;

	constructor(url: string, events: LiveSocketEvents) {
		this.#url = url;
		this.#events = events;
	}

	start(): void {
		this.#stopped = false;
		this.#connect();
	}

	stop(): void {
		this.#stopped = true;
		this.#clearTimers();
		const socket = this.#socket;
		this.#socket = null;
		socket?.close();
	}

	/** Skips the remaining backoff (the banner's "Retry now"). */
	retryNow(): void {
		if (this.#stopped || this.#socket) return;
		this.#clearTimers();
		this.#connect();
	}

	#connect(): void {
		this.#events.onState('connecting', { retryAt: null, attempt: this.#attempt });
		let socket: WebSocket;
		try {
			socket = new WebSocket(this.#url);
		} catch {
			this.#scheduleRetry();
			return;
		}
		this.#socket = socket;
		socket.onopen = () => {
			if (socket !== this.#socket) return;
			this.#attempt = 0;
			this.#events.onState('open', { retryAt: null, attempt: 0 });
			this.#armStaleTimer();
		};
		socket.onmessage = (event) => {
			if (socket !== this.#socket || typeof event.data !== 'string') return;
			this.#armStaleTimer();
			const message = parseLiveMessage(event.data);
			if (message) this.#events.onMessage(message);
		};
		socket.onclose = () => {
			if (socket !== this.#socket) return;
			this.#socket = null;
			this.#scheduleRetry();
		};
		// An error is always followed by close; the retry is scheduled there.
		socket.onerror = () => {};
	}

	#scheduleRetry(): void {
		this.#clearTimers();
		if (this.#stopped) return;
		const delay = backoffDelay(this.#attempt);
		this.#attempt += 1;
		this.#events.onState('closed', { retryAt: Date.now() + delay, attempt: this.#attempt });
		this.#retryTimer = setTimeout(() => {
			this.#retryTimer = null;
			this.#connect();
		}, delay);
	}

	#armStaleTimer(): void {
		if (this.#staleTimer) clearTimeout(this.#staleTimer);
		this.#staleTimer = setTimeout(() => {
			const socket = this.#socket;
			if (!socket) return;
			this.#socket = null;
			socket.close();
			this.#scheduleRetry();
		}, STALE_AFTER_MS);
	}

	#clearTimers(): void {
		if (this.#retryTimer) clearTimeout(this.#retryTimer);
		if (this.#staleTimer) clearTimeout(this.#staleTimer);
		this.#retryTimer = null;
		this.#staleTimer = null;
	}
}

/** `/live` on the origin that served the page, with the matching ws/wss scheme. */
export function liveUrl(location: Pick<Location, 'protocol' | 'host'>): string {
	const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
	return `${scheme}//${location.host}/live`;
}
