import { Http1Connection, type Http1Exchange } from '@firesight/http1';
import type { TlsEndpoint, TlsEvent } from '@firesight/native';

/** An exchange with the connection it was seen on. */
export interface TrackedExchange {
	exchange: Http1Exchange;
	pid: number;
	/** -1 when the socket never became known. */
	fd: number;
	gen: number;
	local: string | null;
	remote: string | null;
}

export interface ConnectionSummary {
	pid: number;
	/** `pid:fd:generation`, or null when the socket is unknown. */
	connection: string | null;
	local: string | null;
	remote: string | null;
	protocol: 'pending' | 'http1' | 'other';
	role: 'client' | 'server' | null;
	bytesOut: number;
	bytesIn: number;
	requests: number;
	open: boolean;
}

export interface ConnectionTrackerStats {
	open: number;
	closed: number;
	/** Connections dropped to stay within maxConnections or for being idle. */
	evicted: number;
	/** SSL objects whose socket never became known. */
	unboundSeen: number;
}

export interface ConnectionTrackerOptions {
	onExchange: (x: TrackedExchange) => void;
	/** Body bytes to keep for a process's messages (0: none). */
	maxBodyBytesFor?: (pid: number) => number;
	/** Called when a connection ends (closed, process exit, SSL object reused, evicted). */
	onEnd?: (summary: ConnectionSummary) => void;
	maxConnections?: number;
}

interface ConnState {
	pid: number;
	ssl: bigint;
	fd: number;
	gen: number;
	local: string | null;
	remote: string | null;
	http: Http1Connection;
	lastNs: bigint;
}

export function formatEndpoint(e: TlsEndpoint | null): string | null {
	if (!e) return null;
	return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

/**
 * Connections keyed by (pid, SSL object), bound to (pid, fd, generation) once the kernel side
 * ties the SSL object to its socket. Each one reassembles its two directions into HTTP/1.x
 * exchanges. A close of the socket, the process's exit, or the same SSL address showing up on
 * another socket (freed and reused) ends a connection.
 */
export class ConnectionTracker {
	readonly stats: ConnectionTrackerStats = { open: 0, closed: 0, evicted: 0, unboundSeen: 0 };
	#byKey = new Map<string, ConnState>();
	#bySocket = new Map<string, string>();
	#opts: ConnectionTrackerOptions;
	#max: number;

	constructor(opts: ConnectionTrackerOptions) {
		this.#opts = opts;
		this.#max = opts.maxConnections ?? 16_384;
	}

	handle(ev: TlsEvent): void {
		switch (ev.type) {
			case 'data': {
				const st = this.#state(ev.tgid, ev.ssl, ev.fd, ev.gen);
				st.lastNs = ev.tsNs;
				const write = ev.direction === 'write';
				st.http.push(write ? 'outbound' : 'inbound', {
					bytes: ev.payload,
					length: ev.length,
					firstNs: write ? ev.startNs : ev.tsNs,
					lastNs: ev.tsNs,
				});
				break;
			}
			case 'conn': {
				const st = this.#state(ev.tgid, ev.ssl, ev.fd, ev.gen);
				st.local = formatEndpoint(ev.local);
				st.remote = formatEndpoint(ev.remote);
				break;
			}
			case 'close': {
				const key = this.#bySocket.get(socketKey(ev.tgid, ev.fd, ev.gen));
				const st = key === undefined ? undefined : this.#byKey.get(key);
				if (st) this.#end(key!, st, ev.tsNs);
				break;
			}
			case 'exit':
				for (const [key, st] of this.#byKey) if (st.pid === ev.tgid) this.#end(key, st, ev.tsNs);
				break;
			case 'exec':
				break;
		}
	}

	/** Ends connections idle since before `beforeNs` (their peer may be gone without a close we saw). */
	evictIdle(beforeNs: bigint): void {
		for (const [key, st] of this.#byKey) {
			if (st.lastNs < beforeNs) {
				this.stats.evicted++;
				this.#end(key, st, st.lastNs);
			}
		}
	}

	connections(): ConnectionSummary[] {
		return [...this.#byKey.values()].map((st) => summary(st, true));
	}

	/** Ends every connection (the tracer stops). */
	endAll(ns: bigint): void {
		for (const [key, st] of this.#byKey) this.#end(key, st, ns);
	}

	#state(pid: number, ssl: bigint, fd: number, gen: number): ConnState {
		const key = `${pid}:${ssl}`;
		let st = this.#byKey.get(key);
		if (st && fd >= 0 && st.fd >= 0 && (st.fd !== fd || st.gen !== gen)) {
			// The SSL object was freed and its address reused for another connection.
			this.#end(key, st, st.lastNs);
			st = undefined;
		}
		if (!st) {
			if (this.#byKey.size >= this.#max) this.#evictOldest();
			const maxBodyBytes = this.#opts.maxBodyBytesFor?.(pid) ?? 0;
			const created: ConnState = {
				pid,
				ssl,
				fd: -1,
				gen: 0,
				local: null,
				remote: null,
				lastNs: 0n,
				http: new Http1Connection({
					maxBodyBytes,
					onExchange: (exchange) =>
						this.#opts.onExchange({
							exchange,
							pid,
							fd: created.fd,
							gen: created.gen,
							local: created.local,
							remote: created.remote,
						}),
				}),
			};
			st = created;
			this.#byKey.set(key, st);
			this.stats.open = this.#byKey.size;
		}
		if (fd >= 0 && st.fd < 0) {
			st.fd = fd;
			st.gen = gen;
			this.#bySocket.set(socketKey(pid, fd, gen), key);
		}
		return st;
	}

	#evictOldest(): void {
		let oldest: [string, ConnState] | undefined;
		for (const entry of this.#byKey) if (!oldest || entry[1].lastNs < oldest[1].lastNs) oldest = entry;
		if (oldest) {
			this.stats.evicted++;
			this.#end(oldest[0], oldest[1], oldest[1].lastNs);
		}
	}

	#end(key: string, st: ConnState, ns: bigint): void {
		st.http.end(ns);
		this.#byKey.delete(key);
		if (st.fd >= 0) this.#bySocket.delete(socketKey(st.pid, st.fd, st.gen));
		else this.stats.unboundSeen++;
		this.stats.closed++;
		this.stats.open = this.#byKey.size;
		this.#opts.onEnd?.(summary(st, false));
	}
}

function socketKey(pid: number, fd: number, gen: number): string {
	return `${pid}:${fd}:${gen}`;
}

function summary(st: ConnState, open: boolean): ConnectionSummary {
	const s = st.http.stats;
	return {
		pid: st.pid,
		connection: st.fd >= 0 ? `${st.pid}:${st.fd}:${st.gen}` : null,
		local: st.local,
		remote: st.remote,
		protocol: s.protocol,
		role: st.http.role ?? null,
		bytesOut: s.outboundBytes,
		bytesIn: s.inboundBytes,
		requests: s.exchanges,
		open,
	};
}
