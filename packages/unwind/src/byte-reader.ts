import { UnwindError } from './unwind-error.ts';

/** Largest address we represent exactly: addresses are plain numbers for speed. */
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_LEB_BYTES = 20;

/**
 * A bounds-checked little-endian cursor over one section. Every read past `end` throws
 * `UnwindError('truncated')`, so a corrupt length can never make us read another entry's bytes.
 */
export class ByteReader {
	constructor(
		readonly buf: Uint8Array,
		public pos: number,
		public end: number,
	) {}

	get remaining(): number {
		return this.end - this.pos;
	}

	private need(n: number): number {
		const at = this.pos;
		if (n > this.end - at) throw new UnwindError('truncated', `read of ${n} bytes at 0x${at.toString(16)} runs past the end`);
		this.pos = at + n;
		return at;
	}

	u8(): number {
		return this.buf[this.need(1)]!;
	}

	u16(): number {
		const p = this.need(2);
		return this.buf[p]! | (this.buf[p + 1]! << 8);
	}

	u32(): number {
		const p = this.need(4);
		return (this.buf[p]! | (this.buf[p + 1]! << 8) | (this.buf[p + 2]! << 16)) + this.buf[p + 3]! * 0x100_0000;
	}

	i16(): number {
		return (this.u16() << 16) >> 16;
	}

	i32(): number {
		return this.u32() | 0;
	}

	/** An unsigned 64-bit value; above 2^53 it is not an address we can hold exactly. */
	u64(): number {
		const lo = this.u32();
		const hi = this.u32();
		if (hi >= 0x20_0000)
			throw new UnwindError('unsupported', `64-bit value 0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')} beyond 2^53`);
		return hi * 0x1_0000_0000 + lo;
	}

	/** A signed 64-bit value within ±2^53. */
	i64(): number {
		const lo = this.u32();
		const hi = this.u32() | 0;
		if (hi >= 0x20_0000 || hi < -0x20_0000) throw new UnwindError('unsupported', 'signed 64-bit value beyond 2^53');
		return hi * 0x1_0000_0000 + lo;
	}

	uleb(): number {
		let result = 0;
		let mul = 1;
		// Padded encodings (0x80 0x80 ... 0x00) are legal; only a bounded run of them is.
		for (let n = 0; ; n++) {
			if (n === MAX_LEB_BYTES) throw new UnwindError('malformed', 'LEB128 longer than 20 bytes');
			const b = this.u8();
			if ((b & 0x7f) !== 0) {
				if (mul > MAX_SAFE) throw new UnwindError('unsupported', 'ULEB128 beyond 2^53');
				result += (b & 0x7f) * mul;
			}
			if ((b & 0x80) === 0) break;
			mul *= 128;
		}
		if (result > MAX_SAFE) throw new UnwindError('unsupported', 'ULEB128 beyond 2^53');
		return result;
	}

	sleb(): number {
		let result = 0;
		let mul = 1;
		let b: number;
		for (let n = 0; ; n++) {
			if (n === MAX_LEB_BYTES) throw new UnwindError('malformed', 'LEB128 longer than 20 bytes');
			b = this.u8();
			if ((b & 0x7f) !== 0) {
				if (mul > MAX_SAFE) throw new UnwindError('unsupported', 'SLEB128 beyond 2^53');
				result += (b & 0x7f) * mul;
			}
			mul *= 128;
			if ((b & 0x80) === 0) break;
		}
		// Sign bit of the last byte: the value is result - 2^(7 * bytes).
		if ((b & 0x40) !== 0) result -= mul;
		if (result > MAX_SAFE || result < -MAX_SAFE) throw new UnwindError('unsupported', 'SLEB128 beyond 2^53');
		return result;
	}

	/** Skips `n` bytes (a block or augmentation data) after checking they exist. */
	skip(n: number): void {
		this.need(n);
	}

	/** `n` bytes as a view (no copy). */
	bytes(n: number): Uint8Array {
		const p = this.need(n);
		return this.buf.subarray(p, p + n);
	}

	/** A NUL-terminated latin1 string. */
	cstring(): string {
		let e = this.pos;
		while (e < this.end && this.buf[e] !== 0) e++;
		if (e >= this.end) throw new UnwindError('truncated', 'unterminated string');
		let s = '';
		for (let i = this.pos; i < e; i++) s += String.fromCharCode(this.buf[i]!);
		this.pos = e + 1;
		return s;
	}
}
