import { isStale, STALE_AFTER_MS, type Received } from './freshness.ts';
import type { ConnectionState } from './live-socket.ts';
import type { LiveConnectionsMessage, LiveRequest, LiveServerMessage, ProcessRow, StatusMessage, WindowMessage } from './live-messages.ts';

export interface HostProcesses extends Received {
	ts: number;
	processes: readonly ProcessRow[];
}

export interface ThroughputPoint {
	ts: number;
	samplesPerSec: number;
	cpuPercent: number;
}

/** Everything the dashboard knows from the live stream; replaced, never mutated, on each change. */
export interface LiveState {
	connection: ConnectionState;
	/** When the next reconnect attempt happens, while `connection` is 'closed'. */
	retryAt: number | null;
	everConnected: boolean;
	/** Since when the hub has been unreachable; null while connected. */
	lostAt: number | null;
	status: StatusMessage | null;
	/** Each host's latest process table. */
	processes: ReadonlyMap<string, HostProcesses>;
	/** Host-wide samples/s and CPU % per second, newest last, for the throughput chart. */
	history: readonly ThroughputPoint[];
	lastWindow: WindowMessage | null;
	/** Increments on every `window` message so effects can depend on it. */
	windowSeq: number;
	/** Each host's latest TCP connection table, stamped when it arrived. */
	connections: ReadonlyMap<string, LiveConnectionsMessage & Received>;
	/** Recent HTTPS requests of every host, newest last, at most RECENT_REQUESTS. */
	requests: readonly HostRequest[];
	/** Per host, the `ts` of the newest request batch taken: a backfilled batch at or before it is a repeat. */
	requestCursor: ReadonlyMap<string, number>;
	/**
	 * The browser's clock when this state was published (see LiveStore): pages judge freshness
	 * and ages by it, so the once-a-second publish is their only reason to render.
	 */
	clock: number;
}

export interface HostRequest extends LiveRequest {
	host: string;
}

export const RECENT_REQUESTS = 1000;

export const HISTORY_SECONDS = 120;

export const initialLiveState: LiveState = {
	connection: 'connecting',
	retryAt: null,
	everConnected: false,
	lostAt: null,
	status: null,
	processes: new Map(),
	history: [],
	lastWindow: null,
	windowSeq: 0,
	connections: new Map(),
	requests: [],
	requestCursor: new Map(),
	clock: 0,
};

export function reduceConnection(state: LiveState, connection: ConnectionState, retryAt: number | null, now: number): LiveState {
	const open = connection === 'open';
	return {
		...state,
		connection,
		retryAt,
		everConnected: state.everConnected || open,
		lostAt: open ? null : (state.lostAt ?? now),
	};
}

function sumHosts(hosts: ReadonlyMap<string, HostProcesses>): { samplesPerSec: number; cpuPercent: number } {
	let samplesPerSec = 0;
	let cpuPercent = 0;
	for (const { processes } of hosts.values()) {
		for (const process of processes) {
			samplesPerSec += process.samplesPerSec;
			cpuPercent += process.cpuPercent;
		}
	}
	return { samplesPerSec, cpuPercent };
}

/**
 * `receivedAt` is the browser's clock when the message arrived: freshness is judged against it
 * (see freshness.ts), never against the collector's `ts`.
 */
export function reduceMessage(state: LiveState, message: LiveServerMessage, receivedAt = Date.now()): LiveState {
	switch (message.type) {
		case 'status':
			return { ...state, status: message };
		case 'processes': {
			const processes = new Map(state.processes);
			processes.set(message.host, { ts: message.ts, receivedAt, processes: message.rows });
			const point = { ts: message.ts, ...sumHosts(processes) };
			// Several hosts report within the same second: keep one point per second.
			const last = state.history.at(-1);
			const base = last && Math.floor(last.ts / 1000) === Math.floor(message.ts / 1000) ? state.history.slice(0, -1) : state.history;
			const history = [...base, point].slice(-HISTORY_SECONDS);
			return { ...state, processes, history };
		}
		case 'window':
			return { ...state, lastWindow: message, windowSeq: state.windowSeq + 1 };
		case 'connections':
			return { ...state, connections: new Map(state.connections).set(message.host, { ...message, receivedAt }) };
		case 'requests': {
			const cursor = state.requestCursor.get(message.host);
			if (cursor !== undefined && message.ts <= cursor) return state;
			const requestCursor = new Map(state.requestCursor).set(message.host, message.ts);
			if (message.requests.length === 0) return { ...state, requestCursor };
			const added = message.requests.map((r) => ({ ...r, host: message.host }));
			return { ...state, requestCursor, requests: [...state.requests, ...added].slice(-RECENT_REQUESTS) };
		}
	}
}

export interface HostProcessRow extends ProcessRow {
	host: string;
	/** The host's snapshot arrived more than `staleMs` ago: shown, but as old. */
	stale: boolean;
}

/** Rows of every host's latest snapshot, each marked stale when its snapshot is old. */
export function processRows(hosts: ReadonlyMap<string, HostProcesses>, now: number, staleMs = STALE_AFTER_MS): HostProcessRow[] {
	const rows: HostProcessRow[] = [];
	for (const [host, snapshot] of hosts) {
		const stale = isStale(snapshot, now, staleMs);
		for (const process of snapshot.processes) rows.push({ ...process, host, stale });
	}
	return rows;
}

/** How often a LiveStore publishes: the live pages render once a second, whatever arrives. */
export const PUBLISH_EVERY_MS = 1000;
/**
 * New HTTPS requests are published at once when the last publish is this long ago, else this
 * long after it, not up to a whole interval later: a request is on the Requests page within a
 * second of its response (the collector and the hub take some of that), and a steady flow of
 * requests renders the page a few times a second at most.
 */
export const REQUESTS_WITHIN_MS = 400;

/**
 * A tiny external store for useSyncExternalStore that batches: messages update the state as they
 * arrive (several a second: processes, connections, requests, status), but subscribers see it
 * at most once per `publishEveryMs`, stamped with the clock of that moment. While anyone listens
 * it also publishes once per interval without news, so ages and staleness move on. Changes of the
 * connection itself are published at once (`urgent`), for the banner.
 */
export class LiveStore {
	#state: LiveState = initialLiveState;
	#published: LiveState = initialLiveState;
	#listeners = new Set<() => void>();
	#timer: ReturnType<typeof setInterval> | null = null;
	#soon: ReturnType<typeof setTimeout> | null = null;
	#publishedAt = -Infinity;
	readonly #publishEveryMs: number;
	readonly #requestsWithinMs: number;

	constructor(publishEveryMs = PUBLISH_EVERY_MS, requestsWithinMs = REQUESTS_WITHIN_MS) {
		this.#publishEveryMs = publishEveryMs;
		this.#requestsWithinMs = requestsWithinMs;
	}

	getSnapshot = (): LiveState => this.#published;

	subscribe = (listener: () => void): (() => void) => {
		this.#listeners.add(listener);
		if (!this.#timer) this.#timer = setInterval(() => this.#publish(), this.#publishEveryMs);
		return () => {
			this.#listeners.delete(listener);
			if (this.#listeners.size === 0 && this.#timer) {
				clearInterval(this.#timer);
				this.#timer = null;
			}
			if (this.#listeners.size === 0 && this.#soon) {
				clearTimeout(this.#soon);
				this.#soon = null;
			}
		};
	};

	update(next: (state: LiveState) => LiveState, { urgent = false } = {}): void {
		const state = next(this.#state);
		if (state === this.#state) return;
		const newRequests = state.requests !== this.#state.requests;
		this.#state = state;
		if (urgent) this.#publish();
		else if (newRequests && !this.#soon && this.#listeners.size > 0) {
			const wait = this.#publishedAt + this.#requestsWithinMs - Date.now();
			if (wait <= 0) this.#publish();
			else this.#soon = setTimeout(() => this.#publish(), wait);
		}
	}

	#publish(): void {
		if (this.#soon) clearTimeout(this.#soon);
		this.#soon = null;
		this.#publishedAt = Date.now();
		this.#published = { ...this.#state, clock: this.#publishedAt };
		for (const listener of this.#listeners) listener();
	}
}
