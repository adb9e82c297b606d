/**
 * Encoders for what the profiler's unwinding maps take: bpf/unwind.h's `struct unwind_mapping`
 * records for a process, and the checks on a serialized unwind table (packages/unwind's layout)
 * before the addon copies its rows and rules. Golden-byte tests pin the layouts.
 */

export const UNWIND_MAPPING_SIZE = 32;
export const UNWIND_MAX_MAPPINGS = 256;
/** Dwarf-walked user stack ids are at or above this bit (bpf/unwind.h UNWIND_STACK_ID_BIT). */
export const UNWIND_STACK_ID_BIT = 0x4000_0000;

/** enum unwind_mapping_kind in bpf/unwind.h. */
export const UNWIND_MAPPING_KINDS = { table: 0, fp: 1, jit: 2, pending: 3 } as const;
export type UnwindMappingKind = keyof typeof UNWIND_MAPPING_KINDS;

/** One executable mapping of a process, as the walker looks it up. */
export interface UnwindMapping {
	start: bigint;
	/** Exclusive. */
	end: bigint;
	/** Runtime address minus file virtual address. */
	bias: bigint;
	/** The table's id (loadUnwindTable); for 'pending', a table loaded once wanted (0: none); else ignored. */
	fileId: number;
	/** 'table': walk with fileId's rows; 'fp' and 'jit': frame pointers. */
	kind: UnwindMappingKind;
}

const U64_MAX = (1n << 64n) - 1n;

/**
 * The struct unwind_mapping records for a process, sorted by start; throws one line on a bad
 * mapping. Past UNWIND_MAX_MAPPINGS the first ones are kept and `truncated` says so.
 */
export function encodeMappings(mappings: readonly UnwindMapping[]): { bytes: Uint8Array; truncated: boolean } {
	for (const m of mappings) {
		if (m.start < 0n || m.end > U64_MAX || m.start >= m.end)
			throw new RangeError(`unwind mapping ${hex(m.start)}-${hex(m.end)} is empty or out of range`);
		if (m.bias < -(1n << 63n) || m.bias > U64_MAX) throw new RangeError(`unwind mapping bias ${m.bias} does not fit 64 bits`);
		if (!Number.isInteger(m.fileId) || m.fileId < 0 || m.fileId > 0xffff_ffff)
			throw new RangeError(`unwind file id ${m.fileId} is not a u32`);
		if (!(m.kind in UNWIND_MAPPING_KINDS)) throw new RangeError(`unwind mapping kind ${String(m.kind)} is not table, fp, jit or pending`);
	}
	const sorted = [...mappings].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
	for (let i = 1; i < sorted.length; i++) {
		if (sorted[i]!.start < sorted[i - 1]!.end) throw new RangeError(`unwind mappings overlap at ${hex(sorted[i]!.start)}`);
	}
	const kept = sorted.slice(0, UNWIND_MAX_MAPPINGS);
	const bytes = new Uint8Array(kept.length * UNWIND_MAPPING_SIZE);
	const view = new DataView(bytes.buffer);
	kept.forEach((m, i) => {
		const o = i * UNWIND_MAPPING_SIZE;
		view.setBigUint64(o, m.start, true);
		view.setBigUint64(o + 8, m.end, true);
		view.setBigUint64(o + 16, BigInt.asUintN(64, m.bias), true);
		view.setUint32(o + 24, m.kind === 'table' || m.kind === 'pending' ? m.fileId : 0, true);
		view.setUint32(o + 28, UNWIND_MAPPING_KINDS[m.kind], true);
	});
	return { bytes, truncated: sorted.length > UNWIND_MAX_MAPPINGS };
}

const TABLE_MAGIC = 0x57555346;
/**
 * packages/unwind's layout version: 2 added the r11 CFA rule, 3 the rax one, 4 the saved-rsp one,
 * 5 the rbx one and where rbx is saved, 6 the one after a stack switch (Go's).
 */
const TABLE_VERSION = 6;
const TABLE_HEADER_SIZE = 32;
const RULE_SIZE = 16;

/** Where the addon finds a serialized table's parts; throws one line when the bytes are not one. */
export function checkUnwindTable(table: Uint8Array): { rows: number; rules: number } {
	const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
	if (table.byteLength < TABLE_HEADER_SIZE || view.getUint32(0, true) !== TABLE_MAGIC)
		throw new RangeError('not an unwind table (bad magic)');
	const version = view.getUint16(4, true);
	if (version !== TABLE_VERSION) throw new RangeError(`unwind table version ${version}, this profiler reads ${TABLE_VERSION}`);
	if (view.getUint16(6, true) !== TABLE_HEADER_SIZE) throw new RangeError('unwind table header size is not 32');
	const rows = view.getUint32(8, true);
	const rules = view.getUint32(12, true);
	const rulesAt = TABLE_HEADER_SIZE + 4 * rows + ((2 * rows + 3) & ~3);
	if (table.byteLength !== rulesAt + rules * RULE_SIZE) throw new RangeError('unwind table size does not match its header');
	if (rules > 0x10000) throw new RangeError(`unwind table has ${rules} rules, its rows index at most 65536`);
	for (let i = 0; i < rows; i++) {
		if (view.getUint16(TABLE_HEADER_SIZE + 4 * rows + 2 * i, true) >= rules)
			throw new RangeError(`unwind table row ${i} names a rule past its ${rules}`);
		if (i > 0 && view.getUint32(TABLE_HEADER_SIZE + 4 * i, true) <= view.getUint32(TABLE_HEADER_SIZE + 4 * (i - 1), true)) {
			throw new RangeError(`unwind table row ${i} is out of order`);
		}
	}
	return { rows, rules };
}

function hex(v: bigint): string {
	return `0x${v.toString(16)}`;
}
