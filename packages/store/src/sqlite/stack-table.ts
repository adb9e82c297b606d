import { IntMap } from './int-map.ts';

/**
 * The stored stacks the profile store remembers, in typed arrays: for each, its host, database
 * id, last_ms and database frame ids (root first, in one shared array), found by id through an
 * IntMap and by host and frames through an open-addressing table of their hash. A trie node and
 * a Map per stack, and an array of frame indices per stack, cost about 430 bytes a stack and
 * grew the heap for as long as a host made new stacks; this costs 4 bytes a frame and about 40 a
 * stack, and its arrays, once grown, are reused after `clear()` rather than given back.
 *
 * A hash only finds candidates: a stack is found only when its host and every frame id match,
 * so two stacks never share a record and a record never names another stack.
 */
export class StackTable {
	/** Per record: its database id, host id, hash, first frame's offset in #frames, last_ms. */
	#ids = new Int32Array(1024);
	#hosts = new Int32Array(1024);
	#hashes = new Int32Array(1024);
	/** Record r's frames are #frames[#starts[r] .. #starts[r + 1]). */
	#starts = new Int32Array(1025);
	#lastMs = new Float64Array(1024);
	#frames = new Int32Array(16_384);
	/** Record index + 1 by hash, 0 when empty; at most half full. */
	#slots = new Int32Array(2048);
	#byId = new IntMap(1024);
	#count = 0;

	/** Stacks held. */
	get size(): number {
		return this.#count;
	}

	/** Frame ids held, over all stacks. */
	get frameCount(): number {
		return this.#starts[this.#count]!;
	}

	/** The record of this host's stack of these frame ids, or -1. */
	find(host: number, ids: ArrayLike<number>, length: number): number {
		const hash = hashStack(host, ids, length);
		const slots = this.#slots;
		const mask = slots.length - 1;
		for (let i = hash & mask; ; i = (i + 1) & mask) {
			const s = slots[i]!;
			if (s === 0) return -1;
			const r = s - 1;
			if (this.#hashes[r] === hash && this.#hosts[r] === host && this.#sameFrames(r, ids, length)) return r;
		}
	}

	/** The record of the stack with this database id, or -1. */
	byId(id: number): number {
		return this.#byId.get(id);
	}

	/**
	 * Remembers a stored stack; the caller has found neither its id nor its frames here. A stack's
	 * id and frames come from one database row, so each names the other.
	 */
	add(host: number, id: number, lastMs: number, ids: ArrayLike<number>, length: number): number {
		const r = this.#count;
		if (r + 1 >= this.#ids.length) this.#growRecords();
		const start = this.#starts[r]!;
		if (start + length > this.#frames.length) this.#frames = grown(this.#frames, start + length);
		const frames = this.#frames;
		for (let i = 0; i < length; i++) frames[start + i] = ids[i]!;
		const hash = hashStack(host, ids, length);
		this.#ids[r] = id;
		this.#hosts[r] = host;
		this.#hashes[r] = hash;
		this.#lastMs[r] = lastMs;
		this.#starts[r + 1] = start + length;
		this.#count = r + 1;
		if (this.#count * 2 > this.#slots.length) this.#rehash(this.#slots.length * 2);
		else this.#place(r, hash);
		this.#byId.set(id, r);
		return r;
	}

	id(r: number): number {
		return this.#ids[r]!;
	}

	lastMs(r: number): number {
		return this.#lastMs[r]!;
	}

	setLastMs(r: number, ms: number): void {
		this.#lastMs[r] = ms;
	}

	/** Record r's frame ids, root first, as fn sees them one by one. */
	mapFrames(r: number, fn: (frameId: number) => number): number[] {
		const start = this.#starts[r]!;
		const out = new Array<number>(this.#starts[r + 1]! - start);
		for (let i = 0; i < out.length; i++) out[i] = fn(this.#frames[start + i]!);
		return out;
	}

	/** Forgets every stack; the arrays keep their size for the stacks to come. */
	clear(): void {
		this.#count = 0;
		this.#starts[0] = 0;
		this.#slots.fill(0);
		this.#byId.clear();
	}

	#sameFrames(r: number, ids: ArrayLike<number>, length: number): boolean {
		const start = this.#starts[r]!;
		if (this.#starts[r + 1]! - start !== length) return false;
		const frames = this.#frames;
		for (let i = 0; i < length; i++) if (frames[start + i] !== ids[i]) return false;
		return true;
	}

	#place(r: number, hash: number): void {
		const slots = this.#slots;
		const mask = slots.length - 1;
		let i = hash & mask;
		while (slots[i] !== 0) i = (i + 1) & mask;
		slots[i] = r + 1;
	}

	#rehash(size: number): void {
		this.#slots = new Int32Array(size);
		for (let r = 0; r < this.#count; r++) this.#place(r, this.#hashes[r]!);
	}

	#growRecords(): void {
		const n = this.#ids.length * 2;
		this.#ids = grown(this.#ids, n);
		this.#hosts = grown(this.#hosts, n);
		this.#hashes = grown(this.#hashes, n);
		this.#starts = grown(this.#starts, n + 1);
		const lastMs = new Float64Array(n);
		lastMs.set(this.#lastMs);
		this.#lastMs = lastMs;
	}
}

function grown(a: Int32Array, atLeast: number): Int32Array<ArrayBuffer> {
	let n = a.length * 2;
	while (n < atLeast) n *= 2;
	const b = new Int32Array(n);
	b.set(a);
	return b;
}

/** A 32-bit hash of a host's stack (MurmurHash3's mixing, over the host, length and frame ids). */
export function hashStack(host: number, ids: ArrayLike<number>, length: number): number {
	let h = Math.imul(host ^ length, 0x9e3779b1);
	for (let i = 0; i < length; i++) {
		let k = Math.imul(ids[i]!, 0xcc9e2d51);
		k = (k << 15) | (k >>> 17);
		h ^= Math.imul(k, 0x1b873593);
		h = (h << 13) | (h >>> 19);
		h = (Math.imul(h, 5) + 0xe6546b64) | 0;
	}
	h ^= h >>> 16;
	h = Math.imul(h, 0x85ebca6b);
	h ^= h >>> 13;
	h = Math.imul(h, 0xc2b2ae35);
	return (h ^ (h >>> 16)) | 0;
}
