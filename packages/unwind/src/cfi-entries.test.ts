import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildTable } from './build-table.ts';
import { readCfiEntries, type CfiSectionKind } from './cfi-entries.ts';
import type { PointerBases } from './pointer-encoding.ts';
import { formatRule } from './unwind-rule.ts';
import type { UnwindTable } from './unwind-table.ts';

const SECTION = 0x2000;
const BASES: PointerBases = {
	section: SECTION,
	text: 0x1000,
	data: 0x4000,
	// One pointer in the "file" for indirect encodings.
	load: (vaddr) => (vaddr === 0x4100 ? 0x1500 : undefined),
};

function uleb(n: number): number[] {
	const out: number[] = [];
	do {
		let b = n % 128;
		n = Math.floor(n / 128);
		if (n > 0) b |= 0x80;
		out.push(b);
	} while (n > 0);
	return out;
}

function sleb(n: number): number[] {
	const out: number[] = [];
	for (;;) {
		const b = n & 0x7f;
		n >>= 7;
		if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
			out.push(b);
			return out;
		}
		out.push(b | 0x80);
	}
}

const le = (n: number, size: number) => Array.from({ length: size }, (_, i) => Number((BigInt(n) >> BigInt(8 * i)) & 0xffn));

/**
 * Assembles an .eh_frame or .debug_frame section. Field values that depend on where they land
 * (pc-relative pointers, CIE pointers) are given as functions of their position.
 */
class SectionBuilder {
	readonly bytes: number[] = [];
	constructor(readonly kind: CfiSectionKind) {}

	private entry(dwarf64: boolean, id: (idPos: number) => number[], body: (pos: number) => number[]): number {
		const start = this.bytes.length;
		const lengthSize = dwarf64 ? 12 : 4;
		const idPos = start + lengthSize;
		const idBytes = id(idPos);
		const rest = body(idPos + idBytes.length);
		const content = [...idBytes, ...rest];
		while ((content.length + lengthSize) % 8 !== 0) content.push(0); // DW_CFA_nop padding
		this.bytes.push(...(dwarf64 ? [0xff, 0xff, 0xff, 0xff, ...le(content.length, 8)] : le(content.length, 4)), ...content);
		return start;
	}

	cie(o: {
		aug?: string;
		augData?: (pos: number) => number[];
		version?: number;
		addressSize?: number;
		dataAlign?: number;
		init?: number[];
		dwarf64?: boolean;
	}): number {
		const aug = o.aug ?? 'zR';
		const version = o.version ?? 1;
		return this.entry(
			o.dwarf64 ?? false,
			() => new Array<number>(o.dwarf64 ? 8 : 4).fill(this.kind === 'eh_frame' ? 0 : 0xff),
			(pos) => {
				const head = [version, ...Buffer.from(aug, 'latin1'), 0];
				if (version >= 4) head.push(o.addressSize ?? 8, 0);
				head.push(...uleb(1), ...sleb(o.dataAlign ?? -8), ...(version === 1 ? [16] : uleb(16)));
				if (aug.startsWith('z')) {
					const data = o.augData?.(pos + head.length + 1) ?? [0x1b];
					head.push(...uleb(data.length), ...data);
				}
				// Default initial state: CFA = rsp+8, return address at cfa-8.
				return [...head, ...(o.init ?? [0x0c, 7, 8, 0x90, 1])];
			},
		);
	}

	fde(
		cie: number,
		o: { pc: (pos: number) => number[]; range: number[]; augData?: number[]; program: number[]; dwarf64?: boolean },
	): number {
		return this.entry(
			o.dwarf64 ?? false,
			(idPos) => {
				const v = this.kind === 'eh_frame' ? idPos - cie : cie;
				return le(v, o.dwarf64 ? 8 : 4);
			},
			(pos) => {
				const pc = o.pc(pos);
				return [...pc, ...o.range, ...(o.augData === undefined ? [] : [...uleb(o.augData.length), ...o.augData]), ...o.program];
			},
		);
	}

	build(): Uint8Array {
		return Uint8Array.from(this.bytes);
	}
}

/** pcrel|sdata4 pointer to `target` for a field at section offset `pos`. */
const pcrel4 = (target: number) => (pos: number) => le((target - (SECTION + pos)) >>> 0, 4);

function tableOf(bytes: Uint8Array, kind: CfiSectionKind = 'eh_frame'): { table: UnwindTable; rows: string[]; problems: string[] } {
	const entries = readCfiEntries(bytes, kind, BASES);
	const { table, stats } = buildTable([{ entries, bases: BASES }]);
	const rows: string[] = [];
	for (let i = 0; i < table.rowCount; i++) rows.push(`${table.pc(i).toString(16)} ${formatRule(table.rule(i))}`);
	return { table, rows, problems: stats.problems.map((p) => `${p.error.code}: ${p.error.message}`) };
}

describe('CFI entries and programs', () => {
	test('a prologue and epilogue with remember/restore_state, which saves the CFA too', () => {
		const s = new SectionBuilder('eh_frame');
		const c = s.cie({});
		s.fde(c, {
			pc: pcrel4(0x1100),
			range: le(0x20, 4),
			augData: [],
			// prettier-ignore
			program: [
				0x41, // advance_loc 1
				0x0e, 16, // def_cfa_offset 16
				0x86, 2, // offset rbp, cfa-16
				0x43, // advance_loc 3
				0x0d, 6, // def_cfa_register rbp
				0x0a, // remember_state
				0x02, 0x10, // advance_loc1 16
				0x0c, 7, 8, // def_cfa rsp+8
				0xc6, // restore rbp
				0x41, // advance_loc 1
				0x0b, // restore_state
			],
		});
		const { rows, problems } = tableOf(s.build());
		assert.deepEqual(problems, []);
		assert.deepEqual(rows, [
			'1100 rsp+8 rbp=same ra=c-8',
			'1101 rsp+16 rbp=c-16 ra=c-8',
			'1104 rbp+16 rbp=c-16 ra=c-8',
			'1114 rsp+8 rbp=same ra=c-8',
			'1115 rbp+16 rbp=c-16 ra=c-8',
			'1120 gap',
		]);
	});

	test('identical neighbours collapse, gaps between FDEs are explicit, overlaps are clipped', () => {
		const s = new SectionBuilder('eh_frame');
		const c = s.cie({});
		s.fde(c, { pc: pcrel4(0x1200), range: le(0x10, 4), augData: [], program: [] });
		s.fde(c, { pc: pcrel4(0x1100), range: le(0x10, 4), augData: [], program: [] });
		// Adjacent with the same rule: one row.
		s.fde(c, { pc: pcrel4(0x1110), range: le(0x10, 4), augData: [], program: [0x44, 0x0e, 24] });
		// Overlaps the one before: starts where it ends.
		s.fde(c, { pc: pcrel4(0x1118), range: le(0x10, 4), augData: [], program: [0x0e, 32] });
		const { rows } = tableOf(s.build());
		assert.deepEqual(rows, [
			'1100 rsp+8 rbp=same ra=c-8',
			'1114 rsp+24 rbp=same ra=c-8',
			'1120 rsp+32 rbp=same ra=c-8',
			'1128 gap',
			'1200 rsp+8 rbp=same ra=c-8',
			'1210 gap',
		]);
	});

	test('zPLR with an indirect personality and an LSDA, and zRS signal frames', () => {
		const s = new SectionBuilder('eh_frame');
		const c = s.cie({ aug: 'zPLR', augData: (pos) => [0x9b, ...pcrel4(0x4100)(pos + 1), 0x1b, 0x1b] });
		s.fde(c, { pc: pcrel4(0x1100), range: le(0x10, 4), augData: le(0x1234, 4), program: [0x41, 0x0e, 16] });
		// __restore_rt's shape: the CFA is loaded from the signal frame by an expression.
		const sig = s.cie({ aug: 'zRS', init: [0x0f, 4, 0x77, 0xa0, 0x01, 0x06, 0x90, 1] });
		s.fde(sig, { pc: pcrel4(0x1200), range: le(0x8, 4), augData: [], program: [] });
		const { rows, problems } = tableOf(s.build());
		assert.deepEqual(problems, []);
		assert.deepEqual(rows, [
			'1100 rsp+8 rbp=same ra=c-8',
			'1101 rsp+16 rbp=same ra=c-8',
			'1110 gap',
			'1200 unsupported rbp=same ra=c-8 signal',
			'1208 gap',
		]);
	});

	test('pointer encodings: udata8 absolute, datarel, textrel, aligned, and indirect through the file', () => {
		for (const [enc, pc, want] of [
			[0x04, le(0x1100, 8), 0x1100],
			[0x33, le(0x1100 - 0x4000 + 0x10000, 4), 0x1100 + 0x10000],
			[0x23, le(0x300, 4), 0x1300],
			[0x83, le(0x4100, 4), 0x1500],
		] as const) {
			const s = new SectionBuilder('eh_frame');
			const c = s.cie({ augData: () => [enc] });
			s.fde(c, { pc: () => [...pc], range: enc === 0x04 ? le(0x10, 8) : le(0x10, 4), augData: [], program: [] });
			const { table, problems } = tableOf(s.build());
			assert.deepEqual(problems, [], `encoding 0x${enc.toString(16)}`);
			assert.equal(table.pc(0), want, `encoding 0x${enc.toString(16)}`);
		}
		// aligned: the value sits at the next 8-byte boundary.
		const s = new SectionBuilder('eh_frame');
		const c = s.cie({ augData: () => [0x50] });
		s.fde(c, {
			pc: (pos) => [...new Array((8 - ((SECTION + pos) % 8)) % 8).fill(0), ...le(0x1100, 8)],
			range: le(0x10, 8),
			augData: [],
			program: [],
		});
		assert.equal(tableOf(s.build()).table.pc(0), 0x1100);
	});

	test('the _sf forms and GNU_negative_offset_extended, val_offset and expressions', () => {
		const t = new SectionBuilder('eh_frame');
		const c2 = t.cie({});
		t.fde(c2, {
			pc: pcrel4(0x1100),
			range: le(0x40, 4),
			augData: [],
			// prettier-ignore
			program: [
				0x13, ...sleb(-2), // def_cfa_offset_sf: -2 * -8 = 16
				0x2f, 6, 1, // GNU_negative_offset_extended rbp: -(1 * -8), so cfa+8
				0x02, 4, // advance_loc1 4
				0x12, 6, ...sleb(-2), // def_cfa_sf rbp, 16
				0x14, 6, 2, // val_offset rbp: a value, not a slot
				0x41,
				0x10, 16, 2, 0x77, 0, // expression for the return address
				0x44,
				0x07, 16, // undefined return address
			],
		});
		const { rows, problems } = tableOf(t.build());
		assert.deepEqual(problems, []);
		assert.deepEqual(rows, [
			'1100 rsp+16 rbp=c+8 ra=c-8',
			'1104 rbp+16 rbp=unsupported ra=c-8',
			'1105 rbp+16 rbp=unsupported ra=unsupported',
			'1109 rbp+16 rbp=unsupported ra=u',
			'1140 gap',
		]);
	});

	test('DW_CFA_set_loc with a pc-relative operand', () => {
		// FDE header: 4 length + 4 CIE pointer + 4 pc + 4 range + 1 augmentation length, then the program.
		const u = new SectionBuilder('eh_frame');
		const c3 = u.cie({});
		const programAt = u.bytes.length + 17;
		u.fde(c3, { pc: pcrel4(0x1100), range: le(0x20, 4), augData: [], program: [0x01, ...pcrel4(0x1110)(programAt + 1), 0x0e, 16] });
		const { rows, problems } = tableOf(u.build());
		assert.deepEqual(problems, []);
		assert.deepEqual(rows, ['1100 rsp+8 rbp=same ra=c-8', '1110 rsp+16 rbp=same ra=c-8', '1120 gap']);
	});

	test("the PLT expression and OpenSSL's saved rsp are recognized; any other CFA expression is unsupported", () => {
		const plt = [0x77, 8, 0x80, 0, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22];
		const other = [0x77, 8, 0x80, 0, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x1c];
		// DW_OP_breg7 (rsp) N; DW_OP_deref; DW_OP_plus_uconst 8, with N 152 and -8 (SLEB128).
		const saved = [0x77, 0x98, 0x01, 0x06, 0x23, 0x08];
		const savedBelow = [0x77, 0x78, 0x06, 0x23, 0x08];
		// The same but + 16, and a deref of rbp: neither is the pattern.
		const plus16 = [0x77, 0x98, 0x01, 0x06, 0x23, 0x10];
		const fromRbp = [0x76, 0x98, 0x01, 0x06, 0x23, 0x08];
		const s = new SectionBuilder('eh_frame');
		const c = s.cie({});
		[plt, other, saved, savedBelow, plus16, fromRbp].forEach((e, i) =>
			s.fde(c, { pc: pcrel4(0x1100 + 0x10 * i), range: le(0x10, 4), augData: [], program: [0x0f, e.length, ...e] }),
		);
		assert.deepEqual(tableOf(s.build()).rows, [
			'1100 plt(rsp+8,11) rbp=same ra=c-8',
			'1110 unsupported rbp=same ra=c-8',
			'1120 *(rsp+152)+8 rbp=same ra=c-8',
			'1130 *(rsp-8)+8 rbp=same ra=c-8',
			// The two that are not the pattern, one row: rows with the same rule are merged.
			'1140 unsupported rbp=same ra=c-8',
			'1160 gap',
		]);
	});

	test('.debug_frame: 64-bit lengths, version 4 with 4-byte addresses, a CIE after its FDE', () => {
		const s = new SectionBuilder('debug_frame');
		// The FDE names the CIE by section offset; it follows the FDE (24 bytes with padding).
		const fdeLen = 24;
		s.fde(fdeLen, { pc: () => le(0x1100, 4), range: le(0x10, 4), program: [0x41, 0x0e, 16] });
		assert.equal(s.bytes.length, fdeLen);
		s.cie({ aug: '', version: 4, addressSize: 4 });
		const c64 = s.bytes.length;
		s.cie({ aug: '', version: 3, dwarf64: true });
		s.fde(c64, { pc: () => le(0x1200, 8), range: le(0x8, 8), program: [], dwarf64: true });
		const { rows, problems } = tableOf(s.build(), 'debug_frame');
		assert.deepEqual(problems, []);
		assert.deepEqual(rows, [
			'1100 rsp+8 rbp=same ra=c-8',
			'1101 rsp+16 rbp=same ra=c-8',
			'1110 gap',
			'1200 rsp+8 rbp=same ra=c-8',
			'1208 gap',
		]);
	});

	test('a bad FDE is skipped and counted; the others stay', () => {
		const s = new SectionBuilder('eh_frame');
		const c = s.cie({});
		s.fde(c, { pc: pcrel4(0x1100), range: le(0x10, 4), augData: [], program: [0x0b] }); // restore_state, nothing remembered
		s.fde(c, { pc: pcrel4(0x1110), range: le(0x10, 4), augData: [], program: [0x3f] }); // no such opcode
		s.fde(c, { pc: pcrel4(0x1120), range: le(0x10, 4), augData: [], program: [0x41, 0x0e, 16] });
		s.fde(0x7fff, { pc: pcrel4(0x1130), range: le(0x10, 4), augData: [], program: [] }); // CIE pointer outside
		const { rows, problems } = tableOf(s.build());
		assert.deepEqual(rows, ['1120 rsp+8 rbp=same ra=c-8', '1121 rsp+16 rbp=same ra=c-8', '1130 gap']);
		assert.equal(problems.length, 3, problems.join('; '));
		assert.match(problems[0]!, /^malformed: CIE pointer 0x[0-9a-f]+ outside the section$/);
		assert.equal(problems[1], 'malformed: DW_CFA_restore_state without remember_state');
		assert.equal(problems[2], 'malformed: unknown CFA instruction 0x3f');
	});
});
