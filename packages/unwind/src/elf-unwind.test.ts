import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { buildElfUnwindTable } from './elf-unwind.ts';
import { UnwindError } from './unwind-error.ts';
import { CfaKind, formatRule, RaKind, SavedKind, type UnwindRule } from './unwind-rule.ts';
import type { UnwindTable } from './unwind-table.ts';

const FIXTURE = new URL('../fixtures/known-frames.c', import.meta.url).pathname;

/** One FDE as `readelf --debug-dump=frames-interp` prints it. */
interface ReadelfFde {
	readonly section: string;
	readonly offset: number;
	readonly begin: number;
	readonly end: number;
	readonly signalFrame: boolean;
	/** Rows in print order; an FDE without instructions prints none and takes its CIE's row. */
	readonly rows: ReadelfRow[];
}

interface ReadelfRow {
	readonly loc: number;
	readonly cfa: string;
	/** Column name (rbx, rbp, ra, ...) to its cell; a register with no column is absent. */
	readonly regs: ReadonlyMap<string, string>;
}

function readelfFrames(path: string): ReadelfFde[] {
	// -wN: the file alone, not a separate debug file its .gnu_debuglink names.
	const out = execFileSync('readelf', ['-wN', '--debug-dump=frames-interp', path], { encoding: 'utf8', maxBuffer: 1 << 30 });
	const cies = new Map<string, { aug: string; rows: ReadelfRow[] }>();
	const fdes: ReadelfFde[] = [];
	let section = '';
	let rows: ReadelfRow[] | undefined;
	let columns: string[] = [];
	for (const line of out.split('\n')) {
		const sec = /^Contents of the (\S+) section/.exec(line);
		if (sec !== null) {
			section = sec[1]!;
			rows = undefined;
			continue;
		}
		const cie = /^([0-9a-f]+) [0-9a-f]+ [0-9a-f]+ CIE "([^"]*)"/.exec(line);
		if (cie !== null) {
			rows = [];
			cies.set(`${section}:${parseInt(cie[1]!, 16)}`, { aug: cie[2]!, rows });
			continue;
		}
		const fde = /^([0-9a-f]+) [0-9a-f]+ [0-9a-f]+ FDE cie=([0-9a-f]+) pc=([0-9a-f]+)\.\.([0-9a-f]+)/.exec(line);
		if (fde !== null) {
			const c = cies.get(`${section}:${parseInt(fde[2]!, 16)}`);
			assert.ok(c !== undefined, `readelf printed an FDE before its CIE: ${line}`);
			rows = [];
			fdes.push({
				section,
				offset: parseInt(fde[1]!, 16),
				begin: parseInt(fde[3]!, 16),
				end: parseInt(fde[4]!, 16),
				signalFrame: c.aug.includes('S'),
				rows,
			});
			// Until rows follow, the CIE's initial row applies from the FDE's start.
			const cieRow = c.rows[c.rows.length - 1];
			if (cieRow !== undefined) rows.push({ ...cieRow, loc: parseInt(fde[3]!, 16) });
			(rows as ReadelfRow[] & { fromCie?: boolean }).fromCie = true;
			continue;
		}
		if (/^\s+LOC\s+CFA/.test(line)) {
			columns = line.trim().split(/\s+/).slice(2);
			continue;
		}
		const row = /^([0-9a-f]{16}) (.*)$/.exec(line);
		if (row !== null && rows !== undefined) {
			// A register cell prints as "r10 (r10)": a token in parentheses belongs to the one before.
			const cells: string[] = [];
			for (const tok of row[2]!.trim().split(/\s+/)) {
				if (tok.startsWith('(') && cells.length > 0) cells[cells.length - 1] += ` ${tok}`;
				else cells.push(tok);
			}
			const flagged = rows as ReadelfRow[] & { fromCie?: boolean };
			if (flagged.fromCie === true) {
				flagged.length = 0;
				flagged.fromCie = false;
			}
			rows.push({ loc: parseInt(row[1]!, 16), cfa: cells[0]!, regs: new Map(columns.map((c, i) => [c, cells[i + 1] ?? ''])) });
		}
	}
	return fdes;
}

/** Whether readelf's column for a callee-saved register says what our rule for it does. */
function sameSaved(column: string | undefined, kind: SavedKind, offset: number): boolean {
	const saved = column === undefined ? null : /^c([+-]\d+)$/.exec(column);
	if (column === undefined || column === 's') return kind === SavedKind.unchanged;
	// readelf prints u both for "no rule yet" (the caller's value: unchanged) and DW_CFA_undefined.
	if (column === 'u') return kind === SavedKind.unchanged || kind === SavedKind.undefined;
	if (saved !== null) return kind === SavedKind.offset && offset === Number(saved[1]);
	return kind === SavedKind.unsupported;
}

/** Why our rule disagrees with readelf's row, or undefined when it agrees. */
function disagreement(row: ReadelfRow, signalFrame: boolean, ours: UnwindRule): string | undefined {
	const why: string[] = [];
	const cfa = /^(rsp|rbp)([+-]\d+)$/.exec(row.cfa);
	if (cfa !== null) {
		const kind = cfa[1] === 'rsp' ? CfaKind.rsp : CfaKind.rbp;
		const off = Number(cfa[2]);
		const fits = off >= -(2 ** 31) && off < 2 ** 31;
		if (fits ? ours.cfa !== kind || ours.cfaOffset !== off : ours.cfa !== CfaKind.unsupported) why.push('cfa');
	} else if (row.cfa === 'exp') {
		// What the expression is, frames-interp does not print (see the saved-rsp test below).
		if (ours.cfa !== CfaKind.plt && ours.cfa !== CfaKind.rspDeref && ours.cfa !== CfaKind.unsupported) why.push('cfa');
	} else if (/^(r11|rax|rbx)\+\d+$/.test(row.cfa)) {
		const off = Number(row.cfa.slice(4));
		const kind = { r11: CfaKind.r11, rax: CfaKind.rax, rbx: CfaKind.rbx }[row.cfa.slice(0, 3) as 'r11' | 'rax' | 'rbx'];
		if (ours.cfa !== kind || ours.cfaOffset !== off) why.push('cfa');
	} else if (ours.cfa !== CfaKind.unsupported) why.push('cfa');

	if (!sameSaved(row.regs.get('rbp'), ours.rbp, ours.rbpOffset)) why.push('rbp');
	if (!sameSaved(row.regs.get('rbx'), ours.rbx, ours.rbxOffset)) why.push('rbx');

	const ra = row.regs.get('ra');
	const raSaved = ra === undefined ? null : /^c([+-]\d+)$/.exec(ra);
	if (raSaved !== null) {
		if (ours.ra !== RaKind.offset || ours.raOffset !== Number(raSaved[1])) why.push('ra');
	} else if (ra === 'u') {
		if (ours.ra !== RaKind.undefined) why.push('ra');
	} else if (ours.ra !== RaKind.unsupported) why.push('ra');

	if (ours.signalFrame !== signalFrame) why.push('signal frame');
	return why.length === 0 ? undefined : why.join(', ');
}

interface Comparison {
	readonly compared: number;
	readonly points: number;
	readonly mismatches: string[];
}

/**
 * Compares the table with readelf at every address where either side starts a row, inside each
 * chosen FDE, and checks that the addresses between FDEs are gaps.
 */
function compareWithReadelf(label: string, table: UnwindTable, fdes: ReadelfFde[], pick: (f: ReadelfFde) => boolean): Comparison {
	const mismatches: string[] = [];
	const ordered = fdes.filter((f) => f.end > f.begin).sort((a, b) => a.begin - b.begin);
	let covered = -1;
	let compared = 0;
	let points = 0;
	for (let n = 0; n < ordered.length; n++) {
		const f = ordered[n]!;
		if (covered >= 0 && f.begin > covered) {
			const r = table.lookup(covered);
			if (r.cfa !== CfaKind.gap)
				mismatches.push(`${label}: 0x${covered.toString(16)} lies between FDEs but the table says ${formatRule(r)}`);
		}
		const overlapped = f.begin < covered;
		covered = Math.max(covered, f.end);
		if (overlapped || !pick(f)) continue;
		compared++;
		const rows = f.rows.filter((r) => r.loc < f.end);
		const at = new Set<number>(rows.map((r) => Math.max(r.loc, f.begin)));
		for (let i = Math.max(0, table.find(f.begin)); i < table.rowCount && table.pc(i) < f.end; i++) at.add(Math.max(table.pc(i), f.begin));
		for (const pc of [...at].sort((a, b) => a - b)) {
			points++;
			let row: ReadelfRow | undefined;
			for (const r of rows) if (r.loc <= pc) row = r;
			if (row === undefined) {
				mismatches.push(`${label}: ${f.section} FDE 0x${f.offset.toString(16)} has no readelf row at 0x${pc.toString(16)}`);
				continue;
			}
			const ours = table.lookup(pc);
			const why = disagreement(row, f.signalFrame, ours);
			if (why !== undefined) {
				const theirs = `${row.cfa} ${[...row.regs].map(([k, v]) => `${k}=${v}`).join(' ')}`;
				mismatches.push(
					`${label}: ${f.section} FDE 0x${f.offset.toString(16)} pc=0x${f.begin.toString(16)}..0x${f.end.toString(16)} at 0x${pc.toString(16)}: ${why} differ; readelf "${theirs}", ours "${formatRule(ours)}"`,
				);
			}
		}
	}
	if (covered >= 0 && table.lookup(covered).cfa !== CfaKind.gap)
		mismatches.push(`${label}: the table does not end in a gap at 0x${covered.toString(16)}`);
	return { compared, points, mismatches };
}

function assertAgrees(label: string, c: Comparison, minCompared: number): void {
	assert.ok(c.compared >= minCompared, `${label}: compared only ${c.compared} FDEs`);
	assert.deepEqual(
		c.mismatches.slice(0, 20),
		[],
		`${label}: ${c.mismatches.length} mismatches in ${c.points} addresses of ${c.compared} FDEs`,
	);
}

/** A deterministic sample, so a failure can be reproduced. */
function sampler(seed: number, share: number): (f: ReadelfFde) => boolean {
	let s = seed >>> 0;
	return () => {
		s = (s + 0x6d2b79f5) >>> 0;
		let t = s;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32 < share;
	};
}

/** The libc this very process runs on, so the test never names a machine path. */
function libcPath(): string {
	const maps = readFileSync('/proc/self/maps', 'utf8');
	const m = /\s(\/\S*\/libc\.so\.6)$/m.exec(maps) ?? /\s(\/\S*\/libc-[\d.]+\.so)$/m.exec(maps);
	assert.ok(m !== null, 'libc is not mapped into this process');
	return m[1]!;
}

/** The dynamic linker this very process was loaded by. */
function ldSoPath(): string {
	const m = /\s(\/\S*\/ld-linux-x86-64\.so\.2)$/m.exec(readFileSync('/proc/self/maps', 'utf8'));
	assert.ok(m !== null, 'ld.so is not mapped into this process');
	return m[1]!;
}

/** The x86-64 libpython3 known to the dynamic linker, if python3 is installed. */
function libpythonPath(): string | undefined {
	const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' });
	return /^\s+libpython3\.\d+\.so\.1\.0 \(libc6,x86-64\) => (\S+)$/m.exec(out)?.[1];
}

function nmAddress(path: string, name: string): number {
	const out = execFileSync('nm', [path], { encoding: 'utf8' });
	const m = new RegExp(`^([0-9a-f]+) [tT] ${name}$`, 'm').exec(out);
	assert.ok(m !== null, `${name} in ${path}`);
	return parseInt(m[1]!, 16);
}

function sectionAddress(path: string, name: string): number {
	const out = execFileSync('readelf', ['-S', '-W', path], { encoding: 'utf8' });
	const m = new RegExp(`\\s${name.replace('.', '\\.')}\\s+\\S+\\s+([0-9a-f]+)`).exec(out);
	assert.ok(m !== null, `${name} in ${path}`);
	return parseInt(m[1]!, 16);
}

describe('unwind tables agree with readelf --debug-dump=frames-interp', () => {
	const dir = mkdtempSync(join(tmpdir(), 'fs-unwind-'));
	after(() => rmSync(dir, { recursive: true, force: true }));
	const program = join(dir, 'known-frames');
	const programDebugFrame = join(dir, 'known-frames-debug-frame');
	execFileSync('gcc', ['-O2', '-o', program, FIXTURE]);
	// Without asynchronous unwind tables, gcc -g describes the program's own functions in
	// .debug_frame; the C runtime's objects still bring a little .eh_frame.
	execFileSync('gcc', ['-O2', '-g', '-fno-asynchronous-unwind-tables', '-o', programDebugFrame, FIXTURE]);
	const programCompressed = join(dir, 'known-frames-zlib');
	execFileSync('gcc', ['-O2', '-g', '-gz=zlib', '-fno-asynchronous-unwind-tables', '-o', programCompressed, FIXTURE]);

	test('gcc -O2 known-answer program: every FDE, row for row', () => {
		const { table, stats } = buildElfUnwindTable(program);
		const fdes = readelfFrames(program);
		assert.equal(stats.skippedEntries, 0, JSON.stringify(stats.problems));
		// And one each for crti's .init and .fini, which readelf does not list (crt-init-cfi.ts).
		assert.equal(stats.fdes, fdes.filter((f) => f.end > f.begin).length + 2);
		assertAgrees(
			'known-frames',
			compareWithReadelf('known-frames', table, fdes, () => true),
			8,
		);
	});

	test('gcc -O2 known-answer program: the shapes its functions were written to have', () => {
		const { table } = buildElfUnwindTable(program);
		const rulesOf = (name: string) => {
			const start = nmAddress(program, name);
			const out: UnwindRule[] = [table.lookup(start)];
			for (let i = table.find(start) + 1; i < table.rowCount && table.rule(i).cfa !== CfaKind.gap; i++) {
				// Up to the next function's FDE at most: a function's rows end where its code does.
				if (table.pc(i) >= start + 0x400) break;
				out.push(table.rule(i));
			}
			return out;
		};
		// ka_leaf never moves rsp.
		const leaf = table.lookup(nmAddress(program, 'ka_leaf'));
		assert.equal(formatRule(leaf), 'rsp+8 rbp=same ra=c-8');
		assert.equal(
			table.rule(table.find(nmAddress(program, 'ka_leaf')) + 1).cfa,
			CfaKind.gap,
			'a gap after ka_leaf (padding up to the next function)',
		);
		// ka_big_frame: a frame of about 100 000 bytes, beyond 16 bits.
		assert.ok(
			rulesOf('ka_big_frame').some((r) => r.cfa === CfaKind.rsp && r.cfaOffset > 0xffff),
			rulesOf('ka_big_frame').map(formatRule).join('; '),
		);
		// ka_vla: a frame pointer.
		assert.ok(
			rulesOf('ka_vla').some((r) => formatRule(r) === 'rbp+16 rbp=c-16 ra=c-8'),
			rulesOf('ka_vla').map(formatRule).join('; '),
		);
		// ka_many_regs: pushes, so the CFA walks up in steps of 8 from rsp+8.
		const pushes = rulesOf('ka_many_regs')
			.filter((r) => r.cfa === CfaKind.rsp)
			.map((r) => r.cfaOffset);
		assert.deepEqual(pushes.slice(0, 3), [8, 16, 24]);
		// ka_drap: the CFA in r10, then an expression: neither is something a BPF walker evaluates.
		assert.ok(
			rulesOf('ka_drap').some((r) => r.cfa === CfaKind.unsupported),
			rulesOf('ka_drap').map(formatRule).join('; '),
		);
		// The lazy-binding PLT: push, jmp, then one 16-byte entry after another.
		const plt = sectionAddress(program, '.plt');
		assert.equal(formatRule(table.lookup(plt)), 'rsp+16 rbp=same ra=c-8');
		assert.equal(formatRule(table.lookup(plt + 0x10)), 'plt(rsp+8,11) rbp=same ra=c-8');
		// _start ends the chain: its return address is undefined.
		assert.equal(table.lookup(nmAddress(program, '_start')).ra, RaKind.undefined);
	});

	test('gcc -O2 -g without asynchronous unwind tables: .debug_frame, row for row', () => {
		const { table, stats, sections } = buildElfUnwindTable(programDebugFrame);
		assert.deepEqual(sections, ['eh_frame', 'debug_frame']);
		const fdes = readelfFrames(programDebugFrame);
		assert.ok(
			fdes.some((f) => f.section === '.debug_frame'),
			'gcc wrote .debug_frame',
		);
		assert.equal(stats.skippedEntries, 0, JSON.stringify(stats.problems));
		assert.equal(table.lookup(nmAddress(programDebugFrame, 'ka_vla')).cfa, CfaKind.rsp, 'ka_vla is covered by .debug_frame');
		assertAgrees(
			'known-frames (.debug_frame)',
			compareWithReadelf('known-frames (.debug_frame)', table, fdes, () => true),
			6,
		);
	});

	test('a zlib-compressed .debug_frame (gcc -gz=zlib), row for row', () => {
		const sections = execFileSync('readelf', ['-S', '-W', programCompressed], { encoding: 'utf8' });
		assert.match(sections, /\.debug_frame\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+C/, 'gcc compressed .debug_frame (flag C)');
		const { table, stats } = buildElfUnwindTable(programCompressed);
		assert.equal(stats.skippedEntries, 0, JSON.stringify(stats.problems));
		assertAgrees(
			'known-frames (zlib .debug_frame)',
			compareWithReadelf('known-frames (zlib .debug_frame)', table, readelfFrames(programCompressed), () => true),
			6,
		);
	});

	test('libc: a sample of FDEs, row for row', () => {
		const path = libcPath();
		const { table, stats } = buildElfUnwindTable(path);
		assert.equal(stats.skippedEntries, 0, JSON.stringify(stats.problems));
		const fdes = readelfFrames(path);
		assert.ok(table.rowCount > 1000, `${table.rowCount} rows`);
		// PLT and signal trampoline (__restore_rt's CIE has "zRS") included in any sample.
		assert.ok(
			fdes.some((f) => f.signalFrame),
			'libc has a signal frame',
		);
		const share = Math.min(1, 600 / fdes.length);
		const pick = sampler(9, share);
		const special = (f: ReadelfFde) => f.signalFrame || f.rows.some((r) => r.cfa === 'exp' || r.cfa.startsWith('rbp'));
		assertAgrees(
			'libc',
			compareWithReadelf('libc', table, fdes, (f) => pick(f) || special(f)),
			300,
		);
	});

	test("ld.so: every FDE, row for row, with the lazy-binding resolver's CFA in rbx and where callees save rbx", () => {
		const path = ldSoPath();
		const { table, stats } = buildElfUnwindTable(path);
		assert.equal(stats.skippedEntries, 0, JSON.stringify(stats.problems));
		const fdes = readelfFrames(path);
		assert.ok(
			fdes.some((f) => f.rows.some((r) => r.cfa.startsWith('rbx+'))),
			'ld.so has a CFA in rbx (_dl_runtime_resolve_*), so the comparison covers one',
		);
		assertAgrees(
			'ld.so',
			compareWithReadelf('ld.so', table, fdes, () => true),
			100,
		);
	});

	test('libpython: a sample of FDEs, row for row', (t) => {
		const path = libpythonPath();
		if (path === undefined) {
			t.skip('no libpython3 known to ldconfig: python3 is not installed');
			return;
		}
		const { table, stats } = buildElfUnwindTable(path);
		assert.equal(stats.skippedEntries, 0, JSON.stringify(stats.problems));
		const fdes = readelfFrames(path);
		assertAgrees('libpython', compareWithReadelf('libpython', table, fdes, sampler(11, Math.min(1, 600 / fdes.length))), 300);
	});

	test('node: a sample of FDEs, row for row', () => {
		const { table, stats } = buildElfUnwindTable(process.execPath);
		assert.equal(stats.skippedEntries, 0, JSON.stringify(stats.problems));
		const fdes = readelfFrames(process.execPath);
		// And one each for crti's .init and .fini, which readelf does not list (crt-init-cfi.ts).
		assert.equal(stats.fdes, fdes.filter((f) => f.end > f.begin).length + 2);
		assertAgrees('node', compareWithReadelf('node', table, fdes, sampler(13, Math.min(1, 1500 / fdes.length))), 1000);
	});

	test("node: OpenSSL's saved-rsp CFA expressions, at each address readelf --debug-dump=frames gives them", () => {
		const { table } = buildElfUnwindTable(process.execPath);
		// The address each CFA instruction takes effect at, and the last such instruction there.
		const lastAt = new Map<number, string>();
		let loc = 0;
		for (const line of execFileSync('readelf', ['--debug-dump=frames', process.execPath], { encoding: 'utf8', maxBuffer: 1 << 30 }).split(
			'\n',
		)) {
			const fde = /FDE cie=\S+ pc=([0-9a-f]+)\.\./.exec(line);
			const advance = /DW_CFA_(?:advance_loc\d?|set_loc): .*?([0-9a-f]{16})$/.exec(line);
			if (fde !== null) loc = parseInt(fde[1]!, 16);
			else if (advance !== null) loc = parseInt(advance[1]!, 16);
			else if (/DW_CFA_(def_cfa|restore_state)/.test(line)) lastAt.set(loc, line.trim());
		}
		const saved = [...lastAt].flatMap(([at, op]) => {
			const m = /^DW_CFA_def_cfa_expression \(DW_OP_breg7 \(rsp\): (-?\d+); DW_OP_deref; DW_OP_plus_uconst: 8\)$/.exec(op);
			return m === null ? [] : [{ at, offset: Number(m[1]) }];
		});
		assert.ok(saved.length >= 10, `only ${saved.length} saved-rsp expressions in node`);
		const wrong = saved
			.map(({ at, offset }) => ({
				at,
				want: `*(rsp${offset < 0 ? '' : '+'}${offset})+8`,
				ours: formatRule(table.lookup(at)).split(' ')[0],
			}))
			.filter((x) => x.ours !== x.want);
		assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${saved.length} differ`);
	});

	test('a file that is not ELF is one UnwindError', () => {
		assert.throws(
			() => buildElfUnwindTable(FIXTURE),
			(err) => err instanceof UnwindError && err.code === 'not-elf',
		);
		assert.throws(
			() => buildElfUnwindTable(join(dir, 'missing')),
			(err) => err instanceof UnwindError && err.code === 'not-elf',
		);
	});
});
