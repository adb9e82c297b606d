import type { Http1ConnEvent, Http1ExchangeData, Http1Stat, TlsEndpoint, TlsEvent } from '@firesight/native';

/** An exchange with the connection it was seen on. */
export interface TrackedExchange {
	exchange: Http1ExchangeData;
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
	onExchange: (x: TrackedExchange) => void;
	/** Called when a connection ends (closed, process exit, SSL object reused, evicted). */
	onEnd?: (summary: ConnectionSummary) => void;
	/** Connections whose endpoints are kept; past it the oldest are forgotten (counted). */
	maxEndpoints?: number;
}

interface Endpoints {
	local: string | null;
	remote: string | null;
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

	handle(ev: TlsEvent): void {
		switch (ev.type) {
			case 'exchange': {
				const ends = this.#byPid.get(ev.tgid)?.get(ev.ssl);
				this.#opts.onExchange({
					exchange: ev.exchange,
					pid: ev.tgid,
					fd: ev.fd,
					gen: ev.gen,
					local: ends?.local ?? null,
					remote: ends?.remote ?? null,
				});
				break;
			}
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
				conns.set(ssl, { local: formatEndpoint(ev.local), remote: formatEndpoint(ev.remote) });
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
