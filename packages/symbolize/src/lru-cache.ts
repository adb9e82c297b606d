/**
 * A least-recently-used map bounded by total weight (e.g. bytes), so a few huge binaries and many
 * small libraries share one budget. An entry heavier than the budget is still kept alone.
 */
export class LruCache<K, V> {
	private readonly map = new Map<K, { value: V; weight: number }>();
	private total = 0;
	evictions = 0;

	constructor(
		private readonly maxWeight: number,
		private readonly weigh: (v: V) => number = () => 1,
	) {}

	get(key: K): V | undefined {
		const e = this.map.get(key);
		if (e === undefined) return undefined;
		// Re-insert to mark as most recent: Map iterates in insertion order.
		this.map.delete(key);
		this.map.set(key, e);
		return e.value;
	}

	has(key: K): boolean {
		return this.map.has(key);
	}

	set(key: K, value: V): void {
		const old = this.map.get(key);
		if (old !== undefined) {
			this.total -= old.weight;
			this.map.delete(key);
		}
		const weight = Math.max(1, this.weigh(value));
		this.map.set(key, { value, weight });
		this.total += weight;
		for (const [k, e] of this.map) {
			if (this.total <= this.maxWeight || this.map.size <= 1) break;
			this.map.delete(k);
			this.total -= e.weight;
			this.evictions++;
		}
	}

	/** Weighs an entry again after its value grew or shrank in place, and marks it most recent. */
	reweigh(key: K): void {
		const e = this.map.get(key);
		if (e !== undefined) this.set(key, e.value);
	}

	/** Entries from least to most recently used, without marking them used. */
	*entries(): IterableIterator<[K, V]> {
		for (const [k, e] of this.map) yield [k, e.value];
	}

	delete(key: K): void {
		const e = this.map.get(key);
		if (e === undefined) return;
		this.total -= e.weight;
		this.map.delete(key);
	}

	get size(): number {
		return this.map.size;
	}

	get weight(): number {
		return this.total;
	}
}
