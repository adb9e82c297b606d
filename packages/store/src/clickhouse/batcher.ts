/** How much a Batcher gathers and holds. */
export interface BatchLimits {
	/** Weight (rows) one write carries at most; an item heavier than this goes alone. */
	maxBatch: number;
	/** Weight waiting or being written beyond which add() refuses, so a slow server cannot grow memory without bound. */
	maxPending: number;
}

interface Pending<T> {
	item: T;
	weight: number;
	resolve: () => void;
	reject: (err: unknown) => void;
}

/**
 * Group commit: items added while a write is in flight go into the next one, so a burst of
 * inserts becomes a few large INSERTs instead of one per window (ClickHouse makes a part per
 * INSERT). One write at a time; add() resolves when the write that carried its item succeeded,
 * and rejects with that write's error otherwise. The caller never waits on the server to go on.
 */
export class Batcher<T> {
	readonly #write: (items: T[]) => Promise<void>;
	readonly #limits: BatchLimits;
	#queue: Pending<T>[] = [];
	#queuedWeight = 0;
	#writingWeight = 0;
	#writing: Promise<void> | undefined;
	#scheduled = false;
	/** Items refused because too much was pending: a counted drop (the caller also sees the rejection). */
	refused = 0;
	/** Writes made, and the items they carried. */
	writes = 0;
	items = 0;

	constructor(write: (items: T[]) => Promise<void>, limits: BatchLimits) {
		this.#write = write;
		this.#limits = limits;
	}

	add(item: T, weight: number): Promise<void> {
		if (this.#queuedWeight + this.#writingWeight + weight > this.#limits.maxPending && this.#queuedWeight + this.#writingWeight > 0) {
			this.refused++;
			return Promise.reject(new Error(`ClickHouse is behind: ${this.#queuedWeight + this.#writingWeight} rows wait to be written`));
		}
		return new Promise<void>((resolve, reject) => {
			this.#queue.push({ item, weight, resolve, reject });
			this.#queuedWeight += weight;
			this.#schedule();
		});
	}

	/** Resolves once everything added so far is written (or failed). */
	async drain(): Promise<void> {
		while (this.#writing || this.#queue.length > 0 || this.#scheduled) {
			if (this.#writing) await this.#writing;
			else await new Promise((r) => setImmediate(r));
		}
	}

	#schedule(): void {
		if (this.#writing || this.#scheduled) return;
		this.#scheduled = true;
		// The rest of this turn's adds (concurrent calls) join the same write.
		setImmediate(() => {
			this.#scheduled = false;
			this.#flush();
		});
	}

	#flush(): void {
		if (this.#writing || this.#queue.length === 0) return;
		const batch: Pending<T>[] = [];
		let weight = 0;
		while (this.#queue.length > 0 && (batch.length === 0 || weight + this.#queue[0]!.weight <= this.#limits.maxBatch)) {
			const next = this.#queue.shift()!;
			batch.push(next);
			weight += next.weight;
		}
		this.#queuedWeight -= weight;
		this.#writingWeight = weight;
		this.writes++;
		this.items += batch.length;
		this.#writing = this.#write(batch.map((p) => p.item)).then(
			() => {
				for (const p of batch) p.resolve();
			},
			(err: unknown) => {
				for (const p of batch) p.reject(err);
			},
		);
		void this.#writing.finally(() => {
			this.#writing = undefined;
			this.#writingWeight = 0;
			this.#flush();
		});
	}
}
