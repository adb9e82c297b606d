import { UnwindError } from './unwind-error.ts';
import { CfaKind, GAP_RULE, RaKind, SavedKind, type UnwindRule } from './unwind-rule.ts';

/*
 * The table of one file, in one little-endian byte layout used in memory, on disk and (later) in
 * BPF maps. Every field has a fixed width, so a BPF program can binary-search `pcs` with a bounded
 * loop and then index `rule_index` and `rules` directly.
 *
 *   offset         size       field
 *   0              4          magic "FSUW"
 *   4              2          layout version (TABLE_VERSION)
 *   6              2          header size in bytes (32)
 *   8              4          N, number of rows
 *   12             4          R, number of distinct rules
 *   16             8          base: the file virtual address of row 0 (u64)
 *   24             8          reserved, zero
 *   32             4 * N      pcs: u32 offsets from base, strictly increasing
 *   32 + 4N        2 * N      rule_index: u16 per row, into rules
 *   ...            0 or 2     padding to a multiple of 4
 *   rules_at       16 * R     rules, each:
 *                               +0  i32 cfa_offset
 *                               +4  i16 rbp_offset
 *                               +6  i16 ra_offset
 *                               +8  u8  cfa kind   (CfaKind: 0 gap, 1 rsp, 2 rbp, 3 plt, 4 unsupported, 5 r11, 6 rax, 7 *(rsp+off)+8, 8 rbx,
 *                                                     9 rbp after a stack switch)
 *                               +9  u8  rbp kind   (SavedKind: 0 unchanged, 1 cfa+off, 2 undefined, 3 unsupported)
 *                               +10 u8  ra kind    (RaKind: 0 cfa+off, 1 undefined, 2 unsupported)
 *                               +11 u8  flags      (bit 0: signal frame; bits 4-7: PLT threshold)
 *                               +12 i16 rbx_offset
 *                               +14 u8  rbx kind   (SavedKind)
 *                               +15 u8  reserved, zero
 *
 * Row i applies from base + pcs[i] up to base + pcs[i + 1]; the last row is always a gap, so an
 * address past the last FDE finds "no unwind info", as does an address below base. Addresses are
 * file virtual addresses (st_value space): the walker subtracts the mapping's load bias first.
 */
export const TABLE_MAGIC = 0x57555346;
/**
 * 2: CfaKind.r11 (version 1 tables hold such rows as unsupported). 3: CfaKind.rax. 4:
 * CfaKind.rspDeref. 5: CfaKind.rbx, and where rbx is saved (16-byte rules). 6: CfaKind.switchedRbp,
 * and Go's functions from .gopclntab.
 */
export const TABLE_VERSION = 6;
export const HEADER_SIZE = 32;
export const RULE_SIZE = 16;
/** Rule indexes are u16. */
export const MAX_RULES = 0x10000;

export class UnwindTable {
	readonly base: number;
	readonly pcs: Uint32Array;
	readonly ruleIndex: Uint16Array;
	private readonly ruleView: DataView;
	readonly ruleCount: number;

	/** Wraps a serialized table (as from `bytes` or the disk cache), checking its structure. */
	constructor(readonly bytes: Uint8Array) {
		// Typed-array views need 4-byte alignment; a Buffer from the pool may not have it (and a
		// Buffer's slice() does not copy).
		if (bytes.byteOffset % 4 !== 0) bytes = new Uint8Array(bytes);
		this.bytes = bytes;
		const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
		if (bytes.byteLength < HEADER_SIZE || dv.getUint32(0, true) !== TABLE_MAGIC) throw new UnwindError('malformed', 'not an unwind table');
		if (dv.getUint16(4, true) !== TABLE_VERSION) throw new UnwindError('unsupported', `unwind table version ${dv.getUint16(4, true)}`);
		const n = dv.getUint32(8, true);
		const r = dv.getUint32(12, true);
		const base = dv.getBigUint64(16, true);
		if (base > BigInt(Number.MAX_SAFE_INTEGER)) throw new UnwindError('malformed', 'table base beyond 2^53');
		if (r > MAX_RULES) throw new UnwindError('malformed', `${r} rules`);
		const rulesAt = rulesOffset(n);
		if (bytes.byteLength !== rulesAt + r * RULE_SIZE) throw new UnwindError('malformed', 'unwind table size does not match its header');
		this.base = Number(base);
		this.pcs = new Uint32Array(bytes.buffer, bytes.byteOffset + HEADER_SIZE, n);
		this.ruleIndex = new Uint16Array(bytes.buffer, bytes.byteOffset + HEADER_SIZE + 4 * n, n);
		this.ruleView = new DataView(bytes.buffer, bytes.byteOffset + rulesAt, r * RULE_SIZE);
		this.ruleCount = r;
		for (let i = 0; i < n; i++) {
			if (this.ruleIndex[i]! >= r) throw new UnwindError('malformed', `row ${i} names rule ${this.ruleIndex[i]} of ${r}`);
			if (i > 0 && this.pcs[i]! <= this.pcs[i - 1]!) throw new UnwindError('malformed', `row ${i} is out of order`);
		}
	}

	get rowCount(): number {
		return this.pcs.length;
	}

	/** The file virtual address where row `i` starts. */
	pc(i: number): number {
		return this.base + this.pcs[i]!;
	}

	rule(i: number): UnwindRule {
		return this.ruleAt(this.ruleIndex[i]!);
	}

	ruleAt(k: number): UnwindRule {
		const v = this.ruleView;
		const o = k * RULE_SIZE;
		const flags = v.getUint8(o + 11);
		return {
			cfaOffset: v.getInt32(o, true),
			rbpOffset: v.getInt16(o + 4, true),
			raOffset: v.getInt16(o + 6, true),
			cfa: v.getUint8(o + 8) as CfaKind,
			rbp: v.getUint8(o + 9) as SavedKind,
			rbxOffset: v.getInt16(o + 12, true),
			rbx: v.getUint8(o + 14) as SavedKind,
			ra: v.getUint8(o + 10) as RaKind,
			signalFrame: (flags & 1) !== 0,
			pltThreshold: flags >> 4,
		};
	}

	/** The row covering a file virtual address, or -1 below the first row. */
	find(pc: number): number {
		const rel = pc - this.base;
		if (rel < 0 || this.pcs.length === 0) return -1;
		// Last row with pcs[i] <= rel: the same bounded search the BPF walker does.
		let lo = 0;
		let hi = this.pcs.length;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (this.pcs[mid]! <= rel) lo = mid + 1;
			else hi = mid;
		}
		return lo - 1;
	}

	/** The rule at a file virtual address; the gap rule where no FDE covers it. */
	lookup(pc: number): UnwindRule {
		const i = this.find(pc);
		return i < 0 ? GAP_RULE : this.rule(i);
	}
}

export function rulesOffset(n: number): number {
	return HEADER_SIZE + 4 * n + ((2 * n + 3) & ~3);
}

/** Serializes rows already sorted, collapsed and ending in a gap, with their interned rules. */
export function encodeTable(base: number, pcs: ArrayLike<number>, ruleIndex: ArrayLike<number>, rules: readonly UnwindRule[]): UnwindTable {
	const n = pcs.length;
	if (rules.length > MAX_RULES) throw new UnwindError('too-large', `${rules.length} distinct unwind rules, the layout holds ${MAX_RULES}`);
	const rulesAt = rulesOffset(n);
	const bytes = new Uint8Array(rulesAt + rules.length * RULE_SIZE);
	const dv = new DataView(bytes.buffer);
	dv.setUint32(0, TABLE_MAGIC, true);
	dv.setUint16(4, TABLE_VERSION, true);
	dv.setUint16(6, HEADER_SIZE, true);
	dv.setUint32(8, n, true);
	dv.setUint32(12, rules.length, true);
	dv.setBigUint64(16, BigInt(base), true);
	const pcView = new Uint32Array(bytes.buffer, HEADER_SIZE, n);
	const idxView = new Uint16Array(bytes.buffer, HEADER_SIZE + 4 * n, n);
	for (let i = 0; i < n; i++) {
		const rel = pcs[i]! - base;
		if (rel < 0 || rel > 0xffff_ffff) throw new UnwindError('too-large', 'unwind table spans more than 4 GiB of addresses');
		pcView[i] = rel;
		idxView[i] = ruleIndex[i]!;
	}
	for (let k = 0; k < rules.length; k++) {
		const r = rules[k]!;
		const o = rulesAt + k * RULE_SIZE;
		dv.setInt32(o, r.cfaOffset, true);
		dv.setInt16(o + 4, r.rbpOffset, true);
		dv.setInt16(o + 6, r.raOffset, true);
		dv.setUint8(o + 8, r.cfa);
		dv.setUint8(o + 9, r.rbp);
		dv.setUint8(o + 10, r.ra);
		dv.setUint8(o + 11, (r.signalFrame ? 1 : 0) | ((r.pltThreshold & 0xf) << 4));
		dv.setInt16(o + 12, r.rbxOffset, true);
		dv.setUint8(o + 14, r.rbx);
	}
	return new UnwindTable(bytes);
}
