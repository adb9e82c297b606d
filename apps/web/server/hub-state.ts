import { EventEmitter } from 'node:events';
import type { LiveView } from '@firesight/api';
import { limits } from '@firesight/protocol';
import type {
	Drops,
	Features,
	HostStatus,
	SpoolDepth,
	WarmUp,
	LiveServerMessage,
	LiveStats,
	ProcessesMessage,
	RequestBatch,
} from '@firesight/protocol';
import { RecentRequestBatches } from './recent-requests.ts';

/** Hub → browser messages about one host; the ingest routes decide which are superseding snapshots. */
export type LatestMessage = Extract<LiveServerMessage, { host: string }>;

interface HostEntry {
	host: string;
	/** Open collector connections for the host; connected while above zero. */
	connections: number;
	lastSeenMs: number;
	frequencyHz: number;
	drops: Drops;
	features: Features | undefined;
	spool: SpoolDepth | undefined;
	/** Features warming up as the latest live stats said; forgotten when the host disconnects. */
	warmingUp: WarmUp[];
	version: string | undefined;
	/** The newest snapshot of each kind, by message type. */
	latest: Map<LatestMessage['type'], LatestMessage>;
}

export interface HubStateEvents {
	/** A host connected, disconnected or said hello: the status message changed shape. */
	status: [];
	/** Something for every browser on /live. */
	message: [LiveServerMessage];
	/** A host forgotten to stay within the bound: whatever is kept per host elsewhere can go too. */
	forgotten: [string];
}

/** The hub's in-memory view of collectors; the tRPC router reads it through `LiveView`. */
export class HubState extends EventEmitter<HubStateEvents> implements LiveView {
	readonly #hosts = new Map<string, HostEntry>();
	readonly #now: () => number;
	readonly #requests = new RecentRequestBatches();
	readonly #maxHosts: number;
	/** Hosts forgotten to stay within maxHosts: disconnected ones, least recently seen first. */
	hostsForgotten = 0;

	/**
	 * At most `maxHosts` hosts are remembered (the status message carries no more): each hello
	 * under a new name makes one, and a disconnected host is otherwise kept for good.
	 */
	constructor(now: () => number = Date.now, maxHosts: number = limits.hosts) {
		super();
		this.#now = now;
		this.#maxHosts = maxHosts;
	}

	#entry(host: string): HostEntry {
		let e = this.#hosts.get(host);
		if (!e) {
			if (this.#hosts.size >= this.#maxHosts) this.#forgetOne();
			e = {
				host,
				connections: 0,
				lastSeenMs: this.#now(),
				frequencyHz: 0,
				drops: {},
				features: undefined,
				spool: undefined,
				warmingUp: [],
				version: undefined,
				latest: new Map(),
			};
			this.#hosts.set(host, e);
		}
		return e;
	}

	/**
	 * Forgets the disconnected host seen longest ago. Connected hosts stay: each holds a socket, so
	 * they are bounded by what the hub can hold open anyway.
	 */
	#forgetOne(): void {
		let oldest: HostEntry | undefined;
		for (const e of this.#hosts.values()) if (e.connections === 0 && (!oldest || e.lastSeenMs < oldest.lastSeenMs)) oldest = e;
		if (!oldest) return;
		this.#hosts.delete(oldest.host);
		this.hostsForgotten++;
		this.emit('forgotten', oldest.host);
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
		// A disconnected collector warms nothing up: its next run says again.
		if (e.connections === 0) e.warmingUp = [];
		this.emit('status');
	}

	seen(host: string): void {
		this.#entry(host).lastSeenMs = this.#now();
	}

	/** A collector's live stats: its status (drops, features) and its process table. */
	live(stats: LiveStats): void {
		const e = this.#entry(stats.host);
		e.frequencyHz = stats.frequencyHz;
		e.drops = stats.drops;
		if (stats.features) e.features = stats.features;
		if (stats.spool) e.spool = stats.spool;
		// A warm-up's start, progress and end reach browsers as they happen, not at the next status tick.
		const warmingUp = stats.warmingUp ?? [];
		const changed = JSON.stringify(warmingUp) !== JSON.stringify(e.warmingUp);
		e.warmingUp = warmingUp;
		if (changed) this.emit('status');
		this.setLatest({ type: 'processes', host: stats.host, ts: stats.ts, rows: stats.processes });
	}

	/** A host's newest snapshot of one kind: kept for browsers that connect later, and pushed. */
	setLatest(message: LatestMessage): void {
		const e = this.#entry(message.host);
		e.lastSeenMs = this.#now();
		e.latest.set(message.type, message);
		this.publish(message);
	}

	/** Pushed to every browser, not kept. */
	publish(message: LiveServerMessage): void {
		this.emit('message', message);
	}

	/** A collector's new requests: the recent ones are kept for browsers that connect later, and pushed. */
	requests(batch: RequestBatch): void {
		this.#entry(batch.host).lastSeenMs = this.#now();
		this.publish(this.#requests.add(batch.host, batch));
	}

	/** Requests left out of what browsers are sent past LIVE_REQUESTS_PER_SECOND per host (all stored). */
	get requestsThinned(): number {
		return this.#requests.thinned;
	}

	/** The newest snapshot of one kind per host, or only `host`'s. */
	latest<T extends LatestMessage['type']>(type: T, host?: string): Extract<LatestMessage, { type: T }>[] {
		const out: Extract<LatestMessage, { type: T }>[] = [];
		for (const e of this.#hosts.values()) {
			const m = e.latest.get(type);
			if (m && (host === undefined || e.host === host)) out.push(m as Extract<LatestMessage, { type: T }>);
		}
		return out;
	}

	/** What a browser that just connected needs: every host's latest snapshots, then recent requests. */
	backfill(): LiveServerMessage[] {
		const out: LiveServerMessage[] = [];
		for (const e of this.#hosts.values()) out.push(...e.latest.values());
		out.push(...this.#requests.list());
		return out;
	}

	processes(host?: string): ProcessesMessage[] {
		return this.latest('processes', host);
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
				...(e.features === undefined ? {} : { features: e.features }),
				...(e.spool === undefined ? {} : { spool: e.spool }),
				...(e.warmingUp.length === 0 ? {} : { warmingUp: e.warmingUp }),
			}))
			.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
	}
}
