import type { Http1ConnEvent, Http1Stat, TlsEndpoint, TlsStreamEvent } from '@firesight/native';

/** What a request record takes from its connection: endpoints and `pid:fd:generation`. */
export interface ConnectionEnds {
	local: string | null;
	remote: string | null;
	/** `pid:fd:generation`, or null when the socket is unknown. */
	connection: string | null;
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
	/** What reassembly counted lost on this connection (parse errors, desyncs, unpaired responses, requests past the pipelining bound). */
	losses: number;
	open: boolean;
}

/**
 * The addon's HTTP/1 tracker's totals (http1-records.ts), under packages/http1's names where the
 * meaning is the same. Loss: `evicted` (ended to stay within the cap or for being idle),
 * `parseErrors`, `desyncs` and `skippedBytes` (bytes that could not be parsed), `unpairedResponses`
 * (no request to pair with), `unansweredRequests` (no response before the connection ended) and
 * `pendingDropped` (requests past the pipelining bound). `unboundSeen`: SSL objects whose socket
 * never became known.
 */
export type ConnectionTrackerStats = Omit<Record<Http1Stat, number>, 'otherProtocolBytes' | 'exchanges'>;

export interface ConnectionTrackerOptions {
	/** Called when a connection ends (closed, process exit, SSL object reused, evicted). */
	onEnd?: (summary: ConnectionSummary) => void;
	/** Connections whose endpoints are kept; past it the oldest are forgotten (counted). */
	maxEndpoints?: number;
}

interface Endpoints {
	local: string | null;
	remote: string | null;
	/** The `pid:fd:generation` string last made for it, and of which socket: one per connection, not per request. */
	connection: string | null;
	fd: number;
	gen: number;
}

export function formatEndpoint(e: TlsEndpoint | null): string | null {
	if (!e) return null;
	return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

/**
 * What JavaScript keeps of the TLS connections now that the addon reassembles them
 * (native/src/http1-tracker.h): each connection's endpoints, from the kernel's conn records until
 * the tracker says the connection ended, so that exchanges and summaries carry them.
 */
export class ConnectionTracker {
	/** Endpoints forgotten to stay within maxEndpoints (a connection end that never arrived). */
	endpointsForgotten = 0;
	/** By process, then by SSL object address. */
	#byPid = new Map<number, Map<number, Endpoints>>();
	#count = 0;
	#opts: ConnectionTrackerOptions;
	#max: number;

	constructor(opts: ConnectionTrackerOptions) {
		this.#opts = opts;
		this.#max = opts.maxEndpoints ?? 32_768;
	}

	/** The endpoints and connection string of an exchange seen on (pid, ssl) with socket (fd, gen). */
	ends(pid: number, ssl: number, fd: number, gen: number): ConnectionEnds {
		const ends = this.#byPid.get(pid)?.get(ssl);
		if (!ends) return { local: null, remote: null, connection: fd >= 0 ? `${pid}:${fd}:${gen}` : null };
		if (ends.fd !== fd || ends.gen !== gen) {
			ends.connection = fd >= 0 ? `${pid}:${fd}:${gen}` : null;
			ends.fd = fd;
			ends.gen = gen;
		}
		return ends;
	}

	handle(ev: TlsStreamEvent): void {
		switch (ev.type) {
			case 'conn': {
				let conns = this.#byPid.get(ev.tgid);
				if (!conns) {
					conns = new Map();
					this.#byPid.set(ev.tgid, conns);
				}
				const ssl = Number(ev.ssl);
				if (!conns.has(ssl)) {
					if (this.#count >= this.#max) this.#forgetOldest();
					this.#count++;
				}
				conns.set(ssl, { local: formatEndpoint(ev.local), remote: formatEndpoint(ev.remote), connection: null, fd: -1, gen: 0 });
				break;
			}
			case 'connEnd': {
				const summary = this.summary(ev);
				const conns = this.#byPid.get(ev.tgid);
				if (conns?.delete(ev.ssl)) {
					this.#count--;
					if (conns.size === 0) this.#byPid.delete(ev.tgid);
				}
				this.#opts.onEnd?.(summary);
				break;
			}
			case 'exit': {
				// The tracker ended the process's connections just before; nothing of it is left.
				const conns = this.#byPid.get(ev.tgid);
				if (conns) {
					this.#count -= conns.size;
					this.#byPid.delete(ev.tgid);
				}
				break;
			}
			default:
				break;
		}
	}

	/** A connection record of the tracker, with the endpoints seen for it. */
	summary(ev: Http1ConnEvent): ConnectionSummary {
		const ends = this.#byPid.get(ev.tgid)?.get(ev.ssl);
		return {
			pid: ev.tgid,
			connection: ev.fd >= 0 ? `${ev.tgid}:${ev.fd}:${ev.gen}` : null,
			local: ends?.local ?? null,
			remote: ends?.remote ?? null,
			protocol: ev.protocol,
			role: ev.role,
			bytesOut: ev.bytesOut,
			bytesIn: ev.bytesIn,
			requests: ev.requests,
			losses: ev.losses,
			open: ev.type === 'connOpen',
		};
	}

	#forgetOldest(): void {
		// Maps iterate in insertion order: the first entry is the oldest.
		for (const [pid, conns] of this.#byPid) {
			for (const ssl of conns.keys()) {
				conns.delete(ssl);
				this.#count--;
				this.endpointsForgotten++;
				if (conns.size === 0) this.#byPid.delete(pid);
				return;
			}
		}
	}
}
