/**
 * Wrong Bearer tokens per client address in the last minute. Past the limit every Bearer attempt
 * from that address waits for the minute to end, the right token too (answering it would tell a
 * guesser that this guess was right), so a token cannot be guessed at network speed. By address,
 * so a guesser elsewhere does not lock out the collectors. Bounded: past `maxAddresses` the
 * address that failed longest ago is forgotten, and counted.
 */
export class WrongTokenThrottle {
	readonly #perMinute: number;
	readonly #maxAddresses: number;
	/** Times of recent wrong tokens by address, oldest first; Map order is least recently failed first. */
	readonly #failures = new Map<string, number[]>();
	/** Addresses forgotten to keep the table within its bound. */
	evicted = 0;

	constructor(opts: { perMinute: number; maxAddresses: number }) {
		this.#perMinute = opts.perMinute;
		this.#maxAddresses = opts.maxAddresses;
	}

	get addresses(): number {
		return this.#failures.size;
	}

	/** Seconds this address must wait before its next Bearer attempt; 0 when it may try now. */
	waitSeconds(address: string, now = Date.now()): number {
		const times = this.#recent(address, now);
		if (times === undefined || times.length < this.#perMinute) return 0;
		return Math.max(1, Math.ceil((times[0]! + 60_000 - now) / 1000));
	}

	failed(address: string, now = Date.now()): void {
		const times = this.#recent(address, now) ?? [];
		times.push(now);
		if (times.length > this.#perMinute) times.shift();
		// Re-inserted so the Map's first key is always the address that failed longest ago.
		this.#failures.delete(address);
		this.#failures.set(address, times);
		while (this.#failures.size > this.#maxAddresses) {
			this.#failures.delete(this.#failures.keys().next().value!);
			this.evicted++;
		}
	}

	#recent(address: string, now: number): number[] | undefined {
		const times = this.#failures.get(address);
		if (times === undefined) return undefined;
		while (times.length > 0 && times[0]! <= now - 60_000) times.shift();
		if (times.length === 0) {
			this.#failures.delete(address);
			return undefined;
		}
		return times;
	}
}
