import { EventEmitter } from 'node:events';
import type { LiveView } from '@firesight/api';
import type { ConnectionsSnapshot, Drops, HostStatus, LiveConnectionsMessage, ProcessesMessage, ProcessRow, RequestBatch } from '@firesight/protocol';
import { RecentRequestBatches, type LiveRequestsMessage } from './recent-requests.ts';

interface HostEntry {
	host: string;
	/** Open collector connections for the host; connected while above zero. */
	connections: number;
	lastSeenMs: number;
	frequencyHz: number;
	drops: Drops;
	version: string | undefined;
	processes: ProcessesMessage | undefined;
	tcp?: LiveConnectionsMessage;
}

export interface HubStateEvents {
	/** A host connected, disconnected or said hello: the status message changed shape. */
	status: [];
	processes: [ProcessesMessage];
	connections: [LiveConnectionsMessage];
	requests: [LiveRequestsMessage];
}

/** The hub's in-memory view of collectors; the tRPC router reads it through `LiveView`. */
export class HubState extends EventEmitter<HubStateEvents> implements LiveView {
	readonly #hosts = new Map<string, HostEntry>();
	readonly #now: () => number;
	readonly #requests = new RecentRequestBatches();

	constructor(now: () => number = Date.now) {
		super();
		this.#now = now;
	}

	#entry(host: string): HostEntry {
		let e = this.#hosts.get(host);
		if (!e) {
			e = { host, connections: 0, lastSeenMs: this.#now(), frequencyHz: 0, drops: {}, version: undefined, processes: undefined };
			this.#hosts.set(host, e);
		}
		return e;
	}

	connected(host: string, version: string, frequencyHz: number): void {
		const e = this.#entry(host);
		e.connections++;
		e.version = version;
		e.frequencyHz = frequencyHz;
		e.lastSeenMs = this.#now();
		this.emit('status');
	}

	disconnected(host: string): void {
		const e = this.#hosts.get(host);
		if (!e) return;
		e.connections = Math.max(0, e.connections - 1);
		this.emit('status');
	}

	seen(host: string): void {
		this.#entry(host).lastSeenMs = this.#now();
	}

	live(host: string, ts: number, frequencyHz: number, rows: ProcessRow[], drops: Drops): void {
		const e = this.#entry(host);
		e.lastSeenMs = this.#now();
		e.frequencyHz = frequencyHz;
		e.drops = drops;
		const msg: ProcessesMessage = { type: 'processes', host, ts, rows };
		e.processes = msg;
		this.emit('processes', msg);
	}

	/** A collector's live TCP connection table. */
	liveConnections(host: string, snapshot: ConnectionsSnapshot): void {
		const e = this.#entry(host);
		e.lastSeenMs = this.#now();
		const msg: LiveConnectionsMessage = { ...snapshot, type: 'connections', host };
		e.tcp = msg;
		this.emit('connections', msg);
	}

	/** A collector's new requests: kept for browsers that connect later, and pushed on /live. */
	liveRequests(host: string, batch: RequestBatch): void {
		this.#entry(host).lastSeenMs = this.#now();
		const msg = this.#requests.add(host, batch);
		this.emit('requests', msg);
	}

	/** The newest request batches, oldest first: the /live backfill. */
	recentRequestBatches(host?: string): LiveRequestsMessage[] {
		return this.#requests.list(host);
	}

	connections(host?: string): LiveConnectionsMessage[] {
		const out: LiveConnectionsMessage[] = [];
		for (const e of this.#hosts.values()) {
			if (e.tcp && (host === undefined || e.host === host)) out.push(e.tcp);
		}
		return out;
	}

	hosts(): HostStatus[] {
		return [...this.#hosts.values()]
			.map((e) => ({
				host: e.host,
				connected: e.connections > 0,
				lastSeenMs: e.lastSeenMs,
				frequencyHz: e.frequencyHz,
				drops: e.drops,
				...(e.version === undefined ? {} : { version: e.version }),
			}))
			.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
	}

	processes(host?: string): ProcessesMessage[] {
		const out: ProcessesMessage[] = [];
		for (const e of this.#hosts.values()) {
			if (e.processes && (host === undefined || e.host === host)) out.push(e.processes);
		}
		return out;
	}
}
