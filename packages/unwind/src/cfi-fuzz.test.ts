import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { ElfFile, FileSource, type ByteSource } from '@firesight/symbolize';
import { buildTable } from './build-table.ts';
import { readCfiEntries, type CfiSectionKind } from './cfi-entries.ts';
import { buildElfUnwindTable } from './elf-unwind.ts';
import type { PointerBases } from './pointer-encoding.ts';
import { UnwindError } from './unwind-error.ts';
import { CfaKind } from './unwind-rule.ts';
import { HEADER_SIZE, RULE_SIZE } from './unwind-table.ts';

const FIXTURE = new URL('../fixtures/known-frames.c', import.meta.url).pathname;
const RUNS = 3000;
/** Whole files cost more per run. An integer: fast-check never stops at a fractional numRuns. */
const ELF_RUNS = 1000;

function sectionBytes(path: string, name: string): { bytes: Buffer; addr: number; offset: number } {
	const src = new FileSource(path);
	try {
		const sec = new ElfFile(src).sections.find((s) => s.name === name);
		assert.ok(sec !== undefined, `${name} in ${path}`);
		return { bytes: src.read(Number(sec.offset), Number(sec.size)), addr: Number(sec.addr), offset: Number(sec.offset) };
	} finally {
		src.close();
	}
}

/** An ELF image in memory, read the way `FileSource` reads a file. */
class BufferSource implements ByteSource {
	constructor(private readonly buf: Buffer) {}
	get size(): number {
		return this.buf.length;
	}
	read(position: number, length: number): Buffer {
		if (position < 0 || length > 256 * 1024 * 1024) throw new RangeError(`read of ${length} at ${position}`);
		return this.buf.subarray(position, position + Math.max(0, length));
	}
	close(): void {}
}

/**
 * Parses and builds a table from possibly corrupt bytes. Either a table comes out whose size is
 * bounded by the input's, or an UnwindError; anything else fails the property.
 */
function parseBounded(bytes: Uint8Array, kind: CfiSectionKind, bases: PointerBases): void {
	// Reading entries never throws: bad entries are skipped and counted.
	const entries = readCfiEntries(bytes, kind, bases);
	assert.ok(entries.fdes.length <= bytes.length / 8, `${entries.fdes.length} FDEs from ${bytes.length} bytes`);
	assert.ok(entries.problems.length <= entries.problemCount);
	let built;
	try {
		built = buildTable([{ entries, bases }]);
	} catch (err) {
		if (err instanceof UnwindError) return;
		throw err;
	}
	const { table, stats } = built;
	// A row needs an instruction byte or an FDE (its first row, or the gap after it).
	assert.ok(table.rowCount <= bytes.length + 2 * entries.fdes.length + 1, `${table.rowCount} rows from ${bytes.length} bytes`);
	assert.ok(table.ruleCount <= Math.max(1, table.rowCount));
	assert.ok(table.bytes.length <= HEADER_SIZE + 6 * table.rowCount + 4 + RULE_SIZE * table.ruleCount);
	assert.equal(stats.rows, table.rowCount);
	if (table.rowCount > 0) assert.equal(table.rule(table.rowCount - 1).cfa, CfaKind.gap, 'the last row is a gap');
	for (let i = 1; i < table.rowCount; i++) assert.ok(table.pc(i) > table.pc(i - 1));
}

const mutation = fc.record({
	at: fc.nat(),
	kind: fc.constantFrom('byte', 'u32', 'uleb'),
	value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 0x7f, 0x80, 0xff, 0xffffffff, 0xfffffff0, 0x7fffffff)),
});

function mutate(base: Uint8Array, ms: readonly { at: number; kind: string; value: number }[]): Uint8Array {
	const b = Uint8Array.from(base);
	if (b.length === 0) return b;
	for (const m of ms) {
		const at = m.at % b.length;
		if (m.kind === 'byte') b[at] = m.value & 0xff;
		else if (m.kind === 'u32') for (let i = 0; i < 4 && at + i < b.length; i++) b[at + i] = (m.value >>> (8 * i)) & 0xff;
		// A long run of continuation bytes: a LEB128 that never ends.
		else for (let i = 0; i < 24 && at + i < b.length; i++) b[at + i] = 0x80 | (m.value & 0x7f);
	}
	return b;
}

describe('the CFI parser on corrupt input', () => {
	const dir = mkdtempSync(join(tmpdir(), 'fs-unwind-fuzz-'));
	after(() => rmSync(dir, { recursive: true, force: true }));
	const program = join(dir, 'known-frames');
	const programDebugFrame = join(dir, 'known-frames-debug-frame');
	execFileSync('gcc', ['-O2', '-o', program, FIXTURE]);
	execFileSync('gcc', ['-O2', '-g', '-fno-asynchronous-unwind-tables', '-o', programDebugFrame, FIXTURE]);
	const eh = sectionBytes(program, '.eh_frame');
	const dbg = sectionBytes(programDebugFrame, '.debug_frame');
	const ehBases: PointerBases = { section: eh.addr, text: 0, data: 0, load: () => undefined };
	const dbgBases: PointerBases = { section: 0, text: 0, data: 0 };

	test('the unmutated sections parse without problems (so the mutations below start from valid input)', () => {
		for (const [bytes, kind, bases] of [
			[eh.bytes, 'eh_frame', ehBases],
			[dbg.bytes, 'debug_frame', dbgBases],
		] as const) {
			const entries = readCfiEntries(bytes, kind, bases);
			assert.equal(entries.problemCount, 0, `${kind}: ${entries.problems.map((p) => p.error.message).join('; ')}`);
			assert.ok(entries.fdes.length >= 6, `${kind}: ${entries.fdes.length} FDEs`);
		}
	});

	test(`truncated at every length, ${RUNS} times over both sections`, () => {
		fc.assert(
			fc.property(fc.boolean(), fc.nat(), (debug, cut) => {
				const base = debug ? dbg.bytes : eh.bytes;
				parseBounded(base.subarray(0, cut % (base.length + 1)), debug ? 'debug_frame' : 'eh_frame', debug ? dbgBases : ehBases);
			}),
			{ numRuns: RUNS, seed: 1 },
		);
	});

	test(`bytes, words and LEB128 runs overwritten, ${RUNS} times over both sections`, () => {
		fc.assert(
			fc.property(fc.boolean(), fc.array(mutation, { minLength: 1, maxLength: 8 }), fc.nat(), (debug, ms, cut) => {
				const base = debug ? dbg.bytes : eh.bytes;
				const bytes = mutate(base, ms);
				parseBounded(
					cut % 3 === 0 ? bytes.subarray(0, cut % (bytes.length + 1)) : bytes,
					debug ? 'debug_frame' : 'eh_frame',
					debug ? dbgBases : ehBases,
				);
			}),
			{ numRuns: RUNS, seed: 2 },
		);
	});

	test(`random bytes, ${RUNS} times`, () => {
		fc.assert(
			fc.property(fc.boolean(), fc.uint8Array({ maxLength: 2048 }), (debug, bytes) => {
				parseBounded(bytes, debug ? 'debug_frame' : 'eh_frame', debug ? dbgBases : ehBases);
			}),
			{ numRuns: RUNS, seed: 3 },
		);
	});

	test(`whole ELF files with corrupt headers or sections, ${ELF_RUNS} times: one UnwindError or a table`, () => {
		const image = readFileSync(program);
		// Mostly the headers and the unwind sections, where a flip changes what gets read.
		const hot = fc.oneof(
			fc.integer({ min: 0, max: 0x400 }),
			fc.integer({ min: eh.offset, max: eh.offset + eh.bytes.length }),
			fc.integer({ min: 0, max: image.length - 1 }),
		);
		const shoff = Number(image.readBigUInt64LE(0x28));
		const headers = fc.integer({ min: shoff, max: image.length - 1 });
		fc.assert(
			fc.property(
				fc.array(fc.record({ at: fc.oneof(hot, headers), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
				(flips) => {
					const b = Buffer.from(image);
					for (const f of flips) b[f.at % b.length] = f.value;
					try {
						const { table } = buildElfUnwindTable(new BufferSource(b));
						// A corrupt header may point the sections anywhere in the file, but never beyond it.
						assert.ok(table.rowCount <= 2 * b.length + 2);
					} catch (err) {
						if (!(err instanceof UnwindError)) throw err;
					}
				},
			),
			{ numRuns: ELF_RUNS, seed: 4 },
		);
	});
});
