import { limits, type LiveRequestsMessage, type RequestBatch } from '@firesight/protocol';

/** What a browser gets of a batch: no headers or bodies (tRPC serves those, from the store). */
export function toLiveRequests(host: string, batch: RequestBatch): LiveRequestsMessage {
	return {
		type: 'requests',
		host,
		ts: batch.ts,
		omitted: batch.omitted,
		requests: batch.requests.map(({ requestHeaders: _rq, responseHeaders: _rs, requestBody: _bq, responseBody: _bs, ...r }) => r),
	};
}

/**
 * Requests of one host a browser is sent a second at most. The live table holds the newest
 * 1,000; a collector may send 20,000 a second (MAX_REQUESTS_PER_SECOND), which would cost every
 * browser megabytes a second for rows it never shows. Past it the live view is a sample: the
 * newest of each batch go, the rest count in the message's `omitted` and in `thinned` (on
 * /metrics); the store keeps every request, and the Requests page's queries read it.
 */
export const LIVE_REQUESTS_PER_SECOND = 2_000;

/**
 * The newest live request batches across hosts, bounded by request count, so a browser that
 * connects gets the recent table at once (it drops repeats by each host's batch `ts`).
 */
export class RecentRequestBatches {
	readonly #max: number;
	readonly #perSecond: number;
	readonly #now: () => number;
	#batches: LiveRequestsMessage[] = [];
	#count = 0;
	/** Per host: requests browsers may still be sent, refilled at perSecond a second up to a second's worth. */
	readonly #allowance = new Map<string, { left: number; at: number }>();
	/** Requests left out of the live view past perSecond (stored all the same). */
	thinned = 0;

	constructor(maxRequests = 1000, perSecond = LIVE_REQUESTS_PER_SECOND, now: () => number = Date.now) {
		this.#max = maxRequests;
		this.#perSecond = perSecond;
		this.#now = now;
	}

	add(host: string, batch: RequestBatch): LiveRequestsMessage {
		const msg = this.#thin(host, toLiveRequests(host, batch));
		if (msg.requests.length === 0) return msg;
		this.#batches.push(msg);
		this.#count += msg.requests.length;
		while (this.#batches.length > 1 && this.#count - this.#batches[0]!.requests.length >= this.#max) {
			this.#count -= this.#batches.shift()!.requests.length;
		}
		return msg;
	}

	#thin(host: string, msg: LiveRequestsMessage): LiveRequestsMessage {
		const t = this.#now();
		const a = this.#allowance.get(host) ?? { left: this.#perSecond, at: t };
		a.left = Math.min(this.#perSecond, a.left + ((t - a.at) / 1000) * this.#perSecond);
		a.at = t;
		// Re-inserted: the map's order is least recently seen first, and it stays as small as the hosts sending.
		this.#allowance.delete(host);
		this.#allowance.set(host, a);
		if (this.#allowance.size > limits.hosts) this.#allowance.delete(this.#allowance.keys().next().value!);
		const keep = Math.min(msg.requests.length, Math.floor(a.left));
		a.left -= keep;
		const cut = msg.requests.length - keep;
		if (cut === 0) return msg;
		this.thinned += cut;
		return { ...msg, requests: msg.requests.slice(cut), omitted: msg.omitted + cut };
	}

	list(host?: string): LiveRequestsMessage[] {
		return host === undefined ? [...this.#batches] : this.#batches.filter((b) => b.host === host);
	}
}
