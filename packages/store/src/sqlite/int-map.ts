/**
 * A map from non-negative 31-bit integers to 31-bit integers in two typed arrays (open addressing,
 * linear probing). Grouping 100k-stack windows by stack id through a `Map` cost a hash-table entry
 * object per key and dominated merged queries; this costs two array slots.
 */
export class IntMap {
	#keys: Int32Array;
	#values: Int32Array;
	#mask: number;
	#size = 0;

	constructor(expected = 1024) {
		let slots = 16;
		while (slots < expected * 2) slots *= 2;
		this.#keys = new Int32Array(slots).fill(-1);
		this.#values = new Int32Array(slots);
		this.#mask = slots - 1;
	}

	get size(): number {
		return this.#size;
	}

	/** The value of `key`, or -1 when absent. */
	get(key: number): number {
		const keys = this.#keys;
		const mask = this.#mask;
		for (let i = slotOf(key, mask); ; i = (i + 1) & mask) {
			const k = keys[i]!;
			if (k === key) return this.#values[i]!;
			if (k === -1) return -1;
		}
	}

	set(key: number, value: number): void {
		if (!(key >= 0 && key <= 0x7fffffff && Number.isInteger(key))) throw new RangeError(`IntMap key out of range: ${key}`);
		if ((this.#size + 1) * 2 > this.#keys.length) this.#grow();
		const keys = this.#keys;
		const mask = this.#mask;
		for (let i = slotOf(key, mask); ; i = (i + 1) & mask) {
			const k = keys[i]!;
			if (k === key) {
				this.#values[i] = value;
				return;
			}
			if (k === -1) {
				keys[i] = key;
				this.#values[i] = value;
				this.#size++;
				return;
			}
		}
	}

	/** Forgets every key; the arrays keep their size. */
	clear(): void {
		this.#keys.fill(-1);
		this.#size = 0;
	}

	#grow(): void {
		const keys = this.#keys;
		const values = this.#values;
		this.#keys = new Int32Array(keys.length * 2).fill(-1);
		this.#values = new Int32Array(keys.length * 2);
		this.#mask = this.#keys.length - 1;
		this.#size = 0;
		for (let i = 0; i < keys.length; i++) if (keys[i] !== -1) this.set(keys[i]!, values[i]!);
	}
}

/** Fibonacci hashing spreads the consecutive row ids SQLite hands out. */
function slotOf(key: number, mask: number): number {
	return (Math.imul(key, 0x9e3779b1) >>> 0) & mask;
}
