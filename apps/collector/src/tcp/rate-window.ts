/**
 * A sliding count over the last second in 100 ms buckets: bounded memory however many events
 * arrive, and a rate that falls back to 0 a second after the last one.
 */
export class RateWindow {
	static readonly BUCKET_MS = 100;
	static readonly BUCKETS = 10;
	readonly #counts = new Array<number>(RateWindow.BUCKETS).fill(0);
	readonly #slots = new Array<number>(RateWindow.BUCKETS).fill(-1);

	/** Adds n at time `at` (epoch ms). Times older than the window are ignored. */
	add(at: number, n: number): void {
		const slot = Math.floor(at / RateWindow.BUCKET_MS);
		const i = slot % RateWindow.BUCKETS;
		if (this.#slots[i] === slot) {
			this.#counts[i]! += n;
		} else if ((this.#slots[i] ?? -1) < slot) {
			this.#slots[i] = slot;
			this.#counts[i] = n;
		}
	}

	/** The count in the second ending at `now`: per second, since the window is one second. */
	sum(now: number): number {
		const current = Math.floor(now / RateWindow.BUCKET_MS);
		let total = 0;
		for (let i = 0; i < RateWindow.BUCKETS; i++) {
			const slot = this.#slots[i]!;
			if (slot > current - RateWindow.BUCKETS && slot <= current) total += this.#counts[i]!;
		}
		return total;
	}
}
