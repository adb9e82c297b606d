import { createHash } from 'node:crypto';
import type { Frame } from '@firesight/protocol';

/**
 * Dictionary keys, computed here rather than by the server so a window's rows can name their
 * stacks before any of them is written; stable across processes and versions (unlike a Map's
 * ids), so whatever wrote a database before agrees. A frame's key is 64 bits of SHA-1 of its
 * kind, module and name (remembered, so once per distinct frame); a stack's is two 32-bit
 * MurmurHash3 streams over its frames' keys, since a stack is hashed for every sample of every
 * window and SHA-1 there cost more than the rest of storing a window. 0 is reserved for the
 * window marker row.
 */
export interface Hashed {
	/** The key as ClickHouse's text formats write a UInt64: decimal. */
	text: string;
	/** Its low and high 32 bits. */
	lo: number;
	hi: number;
}

function keyOf(lo: number, hi: number): Hashed {
	if (lo === 0 && hi === 0) lo = 1;
	return { text: ((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString(), lo: lo >>> 0, hi: hi >>> 0 };
}

function hashOf(data: string): Hashed {
	const digest = createHash('sha1').update(data).digest();
	return keyOf(digest.readUInt32LE(0), digest.readUInt32LE(4));
}

/** Hashes of frames by kind, module and name, remembered up to a bound. */
export class FrameHashes {
	readonly #byKey = new Map<string, Hashed>();
	readonly #max: number;

	constructor(max = 1_000_000) {
		this.#max = max;
	}

	of(f: Frame): Hashed {
		const key = `${f.kind}\0${f.module}\0${f.name}`;
		let h = this.#byKey.get(key);
		if (h === undefined) {
			if (this.#byKey.size >= this.#max) this.#byKey.clear();
			h = hashOf(key);
			this.#byKey.set(key, h);
		}
		return h;
	}
}

function mix(h: number, k: number): number {
	k = Math.imul(k, 0xcc9e2d51);
	k = (k << 15) | (k >>> 17);
	h ^= Math.imul(k, 0x1b873593);
	h = (h << 13) | (h >>> 19);
	return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number, length: number): number {
	h ^= length;
	h ^= h >>> 16;
	h = Math.imul(h, 0x85ebca6b);
	h ^= h >>> 13;
	h = Math.imul(h, 0xc2b2ae35);
	return (h ^ (h >>> 16)) >>> 0;
}

/** A stack's key: from its frames' keys, root first (two seeded streams, words in opposite order). */
export function stackHash(frames: readonly Hashed[]): Hashed {
	let a = 0x2f1b3c4d;
	let b = 0x6a09e667;
	for (const f of frames) {
		a = mix(mix(a, f.lo), f.hi);
		b = mix(mix(b, f.hi), f.lo);
	}
	return keyOf(finish(a, frames.length), finish(b, frames.length * 8 + 1));
}
