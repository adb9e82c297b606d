import type { ConnectionState } from './live-socket.ts';
import type { LiveConnectionsMessage, LiveRequest, LiveServerMessage, ProcessRow, StatusMessage, WindowMessage } from './live-messages.ts';

export interface HostProcesses {
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
	hosts: ReadonlyMap<string, HostProcesses>;
	/** Host-wide samples/s and CPU % per second, newest last, for the throughput chart. */
	history: readonly ThroughputPoint[];
	lastWindow: WindowMessage | null;
	/** Increments on every `window` message so effects can depend on it. */
	windowSeq: number;
	/** Each host's latest TCP connection table. */
	connections: ReadonlyMap<string, LiveConnectionsMessage>;
	/** Recent HTTPS requests of every host, newest last, at most RECENT_REQUESTS. */
	requests: readonly HostRequest[];
	/** Per host, the `ts` of the newest request batch taken: a backfilled batch at or before it is a repeat. */
	requestCursor: ReadonlyMap<string, number>;
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
	hosts: new Map(),
	history: [],
	lastWindow: null,
	windowSeq: 0,
	connections: new Map(),
	requests: [],
	requestCursor: new Map(),
};

export function reduceConnection(
	state: LiveState,
	connection: ConnectionState,
	retryAt: number | null,
	now: number,
): LiveState {
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

export function reduceMessage(state: LiveState, message: LiveServerMessage): LiveState {
	switch (message.type) {
		case 'status':
			return { ...state, status: message };
		case 'processes': {
			const hosts = new Map(state.hosts);
			hosts.set(message.host, { ts: message.ts, processes: message.rows });
			const point = { ts: message.ts, ...sumHosts(hosts) };
			// Several hosts report within the same second: keep one point per second.
			const last = state.history.at(-1);
			const base = last && Math.floor(last.ts / 1000) === Math.floor(message.ts / 1000)
				? state.history.slice(0, -1)
				: state.history;
			const history = [...base, point].slice(-HISTORY_SECONDS);
			return { ...state, hosts, history };
		}
		case 'window':
			return { ...state, lastWindow: message, windowSeq: state.windowSeq + 1 };
		case 'connections':
			return { ...state, connections: new Map(state.connections).set(message.host, message) };
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
}

/** Rows of every host, dropping hosts that have not reported for `staleMs` (their collector is gone). */
export function processRows(hosts: ReadonlyMap<string, HostProcesses>, now: number, staleMs = 5_000): HostProcessRow[] {
	const rows: HostProcessRow[] = [];
	for (const [host, { ts, processes }] of hosts) {
		if (now - ts > staleMs) continue;
		for (const process of processes) rows.push({ ...process, host });
	}
	return rows;
}

/** A tiny external store for useSyncExternalStore. */
export class LiveStore {
	#state: LiveState = initialLiveState;
	#listeners = new Set<() => void>();

	getSnapshot = (): LiveState => this.#state;

	subscribe = (listener: () => void): (() => void) => {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	};

	update(next: (state: LiveState) => LiveState): void {
		const state = next(this.#state);
		if (state === this.#state) return;
		this.#state = state;
		for (const listener of this.#listeners) listener();
	}
}
