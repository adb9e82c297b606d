import type { TlsRequest } from './tls-request.ts';

/** The last `capacity` requests, oldest first: a ring, so memory stays bounded. */
export class RecentRequests {
	#ring: (TlsRequest | undefined)[];
	#next = 0;
	#size = 0;

	constructor(readonly capacity = 1000) {
		if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
		this.#ring = new Array<TlsRequest | undefined>(capacity);
	}

	push(r: TlsRequest): void {
		this.#ring[this.#next] = r;
		this.#next = (this.#next + 1) % this.capacity;
		this.#size = Math.min(this.#size + 1, this.capacity);
	}

	/** Up to `limit` most recent, oldest first, optionally of one process. */
	list(opts: { limit?: number; pid?: number } = {}): TlsRequest[] {
		const out: TlsRequest[] = [];
		for (let i = 0; i < this.#size; i++) {
			const r = this.#ring[(this.#next - this.#size + i + this.capacity) % this.capacity]!;
			if (opts.pid === undefined || r.pid === opts.pid) out.push(r);
		}
		return opts.limit === undefined ? out : out.slice(Math.max(0, out.length - opts.limit));
	}
}
