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
	/** The SSL object's address. */
	ssl: number;
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
	/**
	 * By process, then by SSL object address as a number (user-space addresses fit in 53 bits):
	 * this runs for every captured call, and building a string key from a bigint costs more than
	 * the rest of the lookup.
	 */
	#byPid = new Map<number, Map<number, ConnState>>();
	#count = 0;
	#bySocket = new Map<string, ConnState>();
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
				const st = this.#bySocket.get(socketKey(ev.tgid, ev.fd, ev.gen));
				if (st) this.#end(st, ev.tsNs);
				break;
			}
			case 'exit':
				for (const st of [...(this.#byPid.get(ev.tgid)?.values() ?? [])]) this.#end(st, ev.tsNs);
				break;
			case 'exec':
				break;
		}
	}

	/** Ends connections idle since before `beforeNs` (their peer may be gone without a close we saw). */
	evictIdle(beforeNs: bigint): void {
		for (const st of this.#all()) {
			if (st.lastNs < beforeNs) {
				this.stats.evicted++;
				this.#end(st, st.lastNs);
			}
		}
	}

	connections(): ConnectionSummary[] {
		return this.#all().map((st) => summary(st, true));
	}

	/** Ends every connection (the tracer stops). */
	endAll(ns: bigint): void {
		for (const st of this.#all()) this.#end(st, ns);
	}

	#all(): ConnState[] {
		const out: ConnState[] = [];
		for (const conns of this.#byPid.values()) for (const st of conns.values()) out.push(st);
		return out;
	}

	#state(pid: number, ssl: bigint, fd: number, gen: number): ConnState {
		const addr = Number(ssl);
		let conns = this.#byPid.get(pid);
		let st = conns?.get(addr);
		if (st && fd >= 0 && st.fd >= 0 && (st.fd !== fd || st.gen !== gen)) {
			// The SSL object was freed and its address reused for another connection.
			this.#end(st, st.lastNs);
			st = undefined;
		}
		if (!st) {
			if (this.#count >= this.#max) this.#evictOldest();
			const maxBodyBytes = this.#opts.maxBodyBytesFor?.(pid) ?? 0;
			const created: ConnState = {
				pid,
				ssl: addr,
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
			// Re-read: ending a reused SSL object above may have dropped the process's map.
			conns = this.#byPid.get(pid);
			if (!conns) {
				conns = new Map();
				this.#byPid.set(pid, conns);
			}
			conns.set(addr, st);
			this.#count++;
			this.stats.open = this.#count;
		}
		if (fd >= 0 && st.fd < 0) {
			st.fd = fd;
			st.gen = gen;
			this.#bySocket.set(socketKey(pid, fd, gen), st);
		}
		return st;
	}

	#evictOldest(): void {
		let oldest: ConnState | undefined;
		for (const st of this.#all()) if (!oldest || st.lastNs < oldest.lastNs) oldest = st;
		if (oldest) {
			this.stats.evicted++;
			this.#end(oldest, oldest.lastNs);
		}
	}

	#end(st: ConnState, ns: bigint): void {
		st.http.end(ns);
		const conns = this.#byPid.get(st.pid);
		if (conns?.get(st.ssl) === st) {
			conns.delete(st.ssl);
			this.#count--;
			if (conns.size === 0) this.#byPid.delete(st.pid);
		}
		if (st.fd >= 0) {
			const key = socketKey(st.pid, st.fd, st.gen);
			if (this.#bySocket.get(key) === st) this.#bySocket.delete(key);
		} else this.stats.unboundSeen++;
		this.stats.closed++;
		this.stats.open = this.#count;
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
