import { createHash } from 'node:crypto';
import type { Frame } from '@firesight/protocol';

/**
 * Dictionary keys: 64 bits of SHA-1, computed here rather than by the server so a window's
 * rows can name their stacks before any of them is written. Stable across processes and
 * versions (unlike a Map's ids), so every hub writing to one database agrees. 0 is reserved
 * for the window marker row.
 */
export interface Hashed {
	/** The key as ClickHouse's JSON writes a UInt64: decimal text. */
	text: string;
	bytes: Buffer;
}

function hashOf(data: Buffer | string): Hashed {
	const bytes = createHash('sha1').update(data).digest().subarray(0, 8);
	if (bytes.readBigUInt64LE(0) === 0n) bytes[0] = 1;
	return { text: bytes.readBigUInt64LE(0).toString(), bytes };
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

/** A stack's key: the hash of its frames' keys, root first. */
export function stackHash(frames: readonly Hashed[]): Hashed {
	return hashOf(
		Buffer.concat(
			frames.map((f) => f.bytes),
			frames.length * 8,
		),
	);
}
