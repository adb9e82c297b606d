import type { LiveRequestsMessage, RequestBatch } from '@firesight/protocol';

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
 * The newest live request batches across hosts, bounded by request count, so a browser that
 * connects gets the recent table at once (it drops repeats by each host's batch `ts`).
 */
export class RecentRequestBatches {
	readonly #max: number;
	#batches: LiveRequestsMessage[] = [];
	#count = 0;

	constructor(maxRequests = 1000) {
		this.#max = maxRequests;
	}

	add(host: string, batch: RequestBatch): LiveRequestsMessage {
		const msg = toLiveRequests(host, batch);
		if (msg.requests.length === 0) return msg;
		this.#batches.push(msg);
		this.#count += msg.requests.length;
		while (this.#batches.length > 1 && this.#count - this.#batches[0]!.requests.length >= this.#max) {
			this.#count -= this.#batches.shift()!.requests.length;
		}
		return msg;
	}

	list(host?: string): LiveRequestsMessage[] {
		return host === undefined ? [...this.#batches] : this.#batches.filter((b) => b.host === host);
	}
}
