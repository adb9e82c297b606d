import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { goldenMain, toArrayBuffer } from '@firesight/testing/golden-c';
import { encodeMappings, checkUnwindTable, UNWIND_MAPPING_SIZE, UNWIND_MAX_MAPPINGS, type UnwindMapping } from './unwind-records.ts';
import { decodePids, decodeUnmapped } from './profile-records.ts';
import { buildElfUnwindTable, CfaKind, HEADER_SIZE, RULE_SIZE, SavedKind } from '@firesight/unwind';

/** Compiles a main() against bpf/unwind.h and returns what it writes: the golden bytes come from the C compiler. */
const cBytes = (body: string) => goldenMain('unwind.h', body);

test('struct unwind_mapping records are what encodeMappings writes, sorted by start', () => {
	const bytes = cBytes(`
		struct unwind_mapping m[3];
		memset(m, 0, sizeof(m));
		m[0].start = 0x400000; m[0].end = 0x401000; m[0].bias = 0; m[0].file_id = 7; m[0].kind = UNWIND_KIND_TABLE;
		m[1].start = 0x7f0000001000ULL; m[1].end = 0x7f0000002000ULL; m[1].bias = 0xffffffffffffff00ULL;
		m[1].file_id = 0; m[1].kind = UNWIND_KIND_JIT;
		m[2].start = 0xffffffffff600000ULL; m[2].end = 0xffffffffff601000ULL; m[2].kind = UNWIND_KIND_FP;
		dump(m, sizeof(m));`);
	const mappings: UnwindMapping[] = [
		{ start: 0xffffffffff600000n, end: 0xffffffffff601000n, bias: 0n, fileId: 99, kind: 'fp' },
		{ start: 0x400000n, end: 0x401000n, bias: 0n, fileId: 7, kind: 'table' },
		{ start: 0x7f0000001000n, end: 0x7f0000002000n, bias: -256n, fileId: 3, kind: 'jit' },
	];
	const { bytes: ours, truncated } = encodeMappings(mappings);
	assert.equal(bytes.length, 3 * UNWIND_MAPPING_SIZE);
	assert.deepEqual(Buffer.from(ours), bytes);
	assert.equal(truncated, false);
});

test('a pending mapping keeps its file id (a table loaded once wanted); other kinds but table write 0', () => {
	const bytes = cBytes(`
		struct unwind_mapping m[2];
		memset(m, 0, sizeof(m));
		m[0].start = 0x400000; m[0].end = 0x401000; m[0].file_id = 12; m[0].kind = UNWIND_KIND_PENDING;
		m[1].start = 0x402000; m[1].end = 0x403000; m[1].kind = UNWIND_KIND_FP;
		dump(m, sizeof(m));`);
	const { bytes: ours } = encodeMappings([
		{ start: 0x400000n, end: 0x401000n, bias: 0n, fileId: 12, kind: 'pending' },
		{ start: 0x402000n, end: 0x403000n, bias: 0n, fileId: 5, kind: 'fp' },
	]);
	assert.deepEqual(Buffer.from(ours), bytes);
});

test('more mappings than a process entry holds keep the first ones and say so', () => {
	const many: UnwindMapping[] = Array.from({ length: UNWIND_MAX_MAPPINGS + 1 }, (_, i) => ({
		start: BigInt(i + 1) * 0x1000n,
		end: BigInt(i + 1) * 0x1000n + 0x800n,
		bias: 0n,
		fileId: 0,
		kind: 'fp' as const,
	}));
	const limit = cBytes(`unsigned n = UNWIND_MAX_MAPPINGS; dump(&n, sizeof(n));`).readUInt32LE(0);
	assert.equal(limit, UNWIND_MAX_MAPPINGS);
	const { bytes, truncated } = encodeMappings(many.reverse());
	assert.equal(truncated, true);
	assert.equal(bytes.length, UNWIND_MAX_MAPPINGS * UNWIND_MAPPING_SIZE);
	assert.equal(new DataView(bytes.buffer).getBigUint64(0, true), 0x1000n);
});

test('bad mappings are refused in one line', () => {
	const m = { start: 0x1000n, end: 0x2000n, bias: 0n, fileId: 1, kind: 'table' } as const;
	assert.throws(() => encodeMappings([{ ...m, end: 0x1000n }]), /empty or out of range/);
	assert.throws(() => encodeMappings([{ ...m, fileId: -1 }]), /not a u32/);
	assert.throws(() => encodeMappings([{ ...m, kind: 'dwarf' as never }]), /not table, fp, jit or pending/);
	assert.throws(() => encodeMappings([m, { ...m, start: 0x1800n, end: 0x2800n }]), /overlap/);
});

test("a table's 16-byte rules are struct unwind_rule as C lays it out, field by field", () => {
	// A real table: the addon copies these records into the rules map as they are. ld.so's has a
	// CFA in rbx (the lazy-binding resolver) and rules that save rbx.
	const ldSo = /\s(\/\S*\/ld-linux-x86-64\.so\.2)$/m.exec(readFileSync('/proc/self/maps', 'utf8'))?.[1];
	assert.ok(ldSo !== undefined, 'ld.so is mapped into this process');
	const { table } = buildElfUnwindTable(ldSo);
	const rulesAt = table.bytes.byteLength - table.ruleCount * RULE_SIZE;
	const all = Array.from({ length: table.ruleCount }, (_, k) => table.ruleAt(k));
	const picks = [
		0,
		all.findIndex((r) => r.cfa === CfaKind.rbx),
		all.findIndex((r) => r.rbx === SavedKind.offset),
		Math.floor(table.ruleCount / 2),
		table.ruleCount - 1,
	];
	assert.ok(!picks.includes(-1), 'a CFA in rbx and a saved rbx among the rules');
	const body = picks
		.map((k, i) => {
			const r = table.ruleAt(k);
			const flags = (r.signalFrame ? 1 : 0) | (r.pltThreshold << 4);
			return `r[${i}].cfa_offset = ${r.cfaOffset}; r[${i}].rbp_offset = ${r.rbpOffset}; r[${i}].ra_offset = ${r.raOffset};
				r[${i}].cfa_kind = ${r.cfa}; r[${i}].rbp_kind = ${r.rbp}; r[${i}].ra_kind = ${r.ra}; r[${i}].flags = ${flags};
				r[${i}].rbx_offset = ${r.rbxOffset}; r[${i}].rbx_kind = ${r.rbx};`;
		})
		.join('\n');
	const bytes = cBytes(`struct unwind_rule r[${picks.length}]; memset(r, 0, sizeof(r));\n${body}\ndump(r, sizeof(r));`);
	assert.equal(bytes.length, picks.length * RULE_SIZE);
	picks.forEach((k, i) => {
		const ours = table.bytes.subarray(rulesAt + k * RULE_SIZE, rulesAt + (k + 1) * RULE_SIZE);
		assert.deepEqual(Buffer.from(ours), bytes.subarray(i * RULE_SIZE, (i + 1) * RULE_SIZE), `rule ${k}`);
	});
	assert.equal(checkUnwindTable(table.bytes).rows, table.rowCount);
	assert.ok(HEADER_SIZE === 32);
});

test('a damaged table is refused before the addon reads it', () => {
	const { table } = buildElfUnwindTable(process.execPath);
	assert.throws(() => checkUnwindTable(table.bytes.subarray(0, table.bytes.byteLength - 1)), /size does not match/);
	const badMagic = new Uint8Array(table.bytes);
	badMagic[0] = 0;
	assert.throws(() => checkUnwindTable(badMagic), /bad magic/);
	const outOfOrder = new Uint8Array(table.bytes);
	new DataView(outOfOrder.buffer).setUint32(HEADER_SIZE + 4, 0, true);
	assert.throws(() => checkUnwindTable(outOfOrder), /row 1 is out of order/);
});

test('unmapped pids decode as the addon writes them (u32 each)', () => {
	const bytes = cBytes(`unsigned p[3] = {1, 4242, 4194304}; dump(p, sizeof(p));`);
	assert.deepEqual(decodePids(toArrayBuffer(bytes)), [1, 4242, 4194304]);
	assert.throws(() => decodePids(new ArrayBuffer(5)), /not a multiple of 4/);
});

test('an unmapped set holds pids and, with UNWIND_WANTED_FILE set, the files of wanted tables', () => {
	const bytes = cBytes(`unsigned p[3] = {4242, UNWIND_WANTED_FILE | 9, 4194304}; dump(p, sizeof(p));`);
	assert.deepEqual(decodeUnmapped(toArrayBuffer(bytes)), { unmappedPids: [4242, 4194304], wantedFiles: [9] });
});
