import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { ElfFile, FileSource, parseMaps, textSegmentFor } from '@firesight/symbolize';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { fixturesDir, startWorkload } from '@firesight/testing/workloads';
import { buildElfUnwindTable, RULE_SIZE, TABLE_VERSION } from '@firesight/unwind';
import { NativeError } from './native-error.ts';
import { Profiler, type UnwindMapping, type UnwindMode } from './profiler.ts';

/*
 * The walker on a real program without frame pointers: the 60/40 workload built by gcc -O2, as a
 * distribution builds it. Its tables (and libc's) come from packages/unwind, its mappings from
 * /proc/PID/maps; the oracle for "reached main" is the ELF symbol table, through nm.
 */

const ownFixtures = fileURLToPath(new URL('../fixtures', import.meta.url));

function compileWithoutFramePointers(t: TestContext, fixture: string): string {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-unwind-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const path = join(dir, fixture);
	const source = [ownFixtures, fixturesDir].map((d) => join(d, `${fixture}.c`)).find((p) => existsSync(p))!;
	execFileSync('gcc', ['-O2', '-fomit-frame-pointer', '-fno-optimize-sibling-calls', '-o', path, source]);
	return path;
}

/** [start, end) of a function in an ELF file, from its symbol table. */
function symbolRange(path: string, name: string): [bigint, bigint] {
	for (const line of execFileSync('nm', ['-S', '--defined-only', path], { encoding: 'utf8' }).split('\n')) {
		const [addr, size, , sym] = line.trim().split(/\s+/);
		if (sym === name && addr && size) return [BigInt(`0x${addr}`), BigInt(`0x${addr}`) + BigInt(`0x${size}`)];
	}
	throw new Error(`${name} is not in ${path}'s symbol table`);
}

/** Loads a table for every file the process maps executable, and describes its mappings. */
function describeProcess(
	profiler: Profiler,
	pid: number,
	tableOf = (path: string) => buildElfUnwindTable(path).table.bytes,
	pendingPath?: string,
): Map<string, bigint> {
	const biases = new Map<string, bigint>();
	const mappings: UnwindMapping[] = [];
	const fileIds = new Map<string, number>();
	for (const m of parseMaps(readFileSync(`/proc/${pid}/maps`, 'utf8'))) {
		if (m.perms[2] !== 'x') continue;
		if (!m.path.startsWith('/')) {
			mappings.push({ start: m.start, end: m.end, bias: 0n, fileId: 0, kind: m.path === '' ? 'jit' : 'fp' });
			continue;
		}
		const seg = textSegmentFor(new ElfFile(new FileSource(m.path)).segments, m.offset);
		assert.ok(seg, `${m.path} has an executable segment`);
		const bias = m.start - m.offset + seg.offset - seg.vaddr;
		if (m.path === pendingPath) {
			// As the collector describes a file whose table is still being built.
			biases.set(m.path, bias);
			mappings.push({ start: m.start, end: m.end, bias, fileId: 0, kind: 'pending' });
			continue;
		}
		let fileId = fileIds.get(m.path);
		if (fileId === undefined) {
			fileId = fileIds.size + 1;
			fileIds.set(m.path, fileId);
			profiler.loadUnwindTable(fileId, tableOf(m.path));
		}
		biases.set(m.path, bias);
		mappings.push({ start: m.start, end: m.end, bias, fileId, kind: 'table' });
	}
	profiler.setProcessMappings(pid, mappings);
	return biases;
}

interface Outcome {
	samples: number;
	/** Samples whose user stack, named by the program's symbols, matched the chain. */
	matched: number;
	/** Samples taken in the kernel. */
	inKernel: number;
	/** Samples whose user stack holds on_alarm (the signal fixture's handler). */
	inHandler: number;
	/** Samples whose user stack is PROFILE_MAX_STACK_DEPTH frames of descend (the deep fixture). */
	fullDepth: number;
	/** Samples by the name of their user leaf ('?' for one in no function of the program's). */
	leaves: Record<string, number>;
	counters: Record<string, number>;
	unmappedPids: Set<number>;
}

interface Workload {
	fixture: string;
	/** The program's functions to name frames by. */
	functions: string[];
	/** The leaf-first chain of names up to main ('?' for a frame in another file), as a whole. */
	chain: RegExp;
}

/** The 60/40 workload: hot_a or hot_b, run_rounds, main; no frame may be skipped. */
const SPLIT: Workload = {
	fixture: 'split-60-40',
	functions: ['main', 'run_rounds', 'hot_a', 'hot_b'],
	chain: /^((hot_a|hot_b);)?run_rounds;main$/,
};
/** Mostly in the kernel, in write(2) called from main through libc. */
const SYSCALLS: Workload = { fixture: 'syscall-heavy', functions: ['main'], chain: /^(\?;)*main$/ };

/**
 * A SIGPROF handler interrupting main_loop: spin_in_handler, on_alarm, libc's signal trampoline,
 * then the interrupted main_loop (its exact pc, from the signal frame) and main.
 */
const SIGNAL: Workload = {
	fixture: 'signal-spin',
	functions: ['main', 'main_loop', 'on_alarm', 'spin_in_handler'],
	chain: /^((spin_in_handler;)?on_alarm;\?;)?main_loop;main$/,
};

/** spin, entered from main with a zero return address its rules do not mark: the walk ends at spin. */
const ZERO_RETURN: Workload = { fixture: 'zero-return', functions: ['main', 'spin'], chain: /^$/ };

/** checked_entry falling through padding no table covers into entry, called from run: the chain holds. */
const FALL_THROUGH: Workload = {
	fixture: 'fall-through',
	functions: ['main', 'run', 'checked_entry', 'entry'],
	chain: /^((checked_entry|entry|\?);)?run;main$/,
};

/** 200 calls of descend deep: the walk keeps 127 frames, all of descend, and counts the rest too deep. */
const DEEP: Workload = { fixture: 'deep-recursion', functions: ['main', 'descend'], chain: /^$/ };

/** Profiles the workload until it has `want` samples, naming its user frames by the program's symbols. */
async function profile(
	t: TestContext,
	workload: Workload,
	unwind: UnwindMode,
	describe: boolean,
	want: number,
	tableOf?: (path: string) => Uint8Array,
	programTable: 'loaded' | 'pending' = 'loaded',
): Promise<Outcome> {
	const program = compileWithoutFramePointers(t, workload.fixture);
	const functions = workload.functions.map((name) => ({ name, range: symbolRange(program, name) }));
	const w = await startWorkload(program);
	t.after(w.stop);
	const profiler = new Profiler({ frequency: 499, pids: [w.pid], unwind });
	t.after(() => profiler.close());
	const bias = describe
		? describeProcess(profiler, w.pid, tableOf, programTable === 'pending' ? program : undefined).get(program)
		: undefined;
	// Without a table the program's bias is taken from the maps as the symbolizer would.
	const programBias =
		bias ??
		(() => {
			const m = parseMaps(readFileSync(`/proc/${w.pid}/maps`, 'utf8')).find((x) => x.path === program && x.perms[2] === 'x')!;
			const seg = textSegmentFor(new ElfFile(new FileSource(program)).segments, m.offset)!;
			return m.start - m.offset + seg.offset - seg.vaddr;
		})();
	const out: Outcome = {
		samples: 0,
		matched: 0,
		inKernel: 0,
		inHandler: 0,
		fullDepth: 0,
		leaves: {},
		counters: {},
		unmappedPids: new Set(),
	};
	// Samples taken while the tables were being built had nothing to walk with yet.
	if (describe) await profiler.drain();
	const deadline = Date.now() + 60_000;
	while (out.samples < want && Date.now() < deadline) {
		await sleep(200);
		const win = await profiler.drain();
		for (const [k, v] of Object.entries(win.counters)) out.counters[k] = (out.counters[k] ?? 0) + v;
		for (const p of win.unmappedPids) out.unmappedPids.add(p);
		for (const c of win.counts) {
			if (c.pid !== w.pid) continue;
			out.samples += c.count;
			if (c.kernelStackId >= 0) out.inKernel += c.count;
			const names = (win.stacks.get(c.userStackId) ?? []).map((ip, i) => {
				// Past the leaf, ips are return addresses: the call is the byte before.
				const addr = ip - programBias - (i > 0 ? 1n : 0n);
				return functions.find((f) => addr >= f.range[0] && addr < f.range[1])?.name ?? '?';
			});
			if (names[0]) out.leaves[names[0]] = (out.leaves[names[0]] ?? 0) + c.count;
			if (names.includes('on_alarm')) out.inHandler += c.count;
			if (names.length === 127 && names.every((n) => n === 'descend')) out.fullDepth += c.count;
			if (workload.chain.test(names.slice(0, names.indexOf('main') + 1).join(';'))) out.matched += c.count;
		}
	}
	assert.ok(out.samples >= want, `only ${out.samples} samples of the workload within 60 s`);
	return out;
}

test('dwarf mode walks a gcc -O2 program without frame pointers up to main, no frame skipped', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const r = await profile(t, SPLIT, 'dwarf', true, 200);
	const summary = `${r.matched} of ${r.samples} samples had the whole chain to main; counters ${JSON.stringify(r.counters)}`;
	t.diagnostic(`dwarf: ${summary}`);
	assert.ok(r.matched / r.samples >= 0.9, summary);
	assert.equal(r.counters.unwindStacksFull, 0);
	// Its walks end at _start, whose rule (glibc's) marks the outermost frame: no zero return counted.
	assert.equal(r.counters.unwindZeroReturn, 0, summary);
});

test('auto mode walks the same program as well, with tables where they are', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const r = await profile(t, SPLIT, 'auto', true, 200);
	assert.ok(r.matched / r.samples >= 0.9, `${r.matched} of ${r.samples} samples had the whole chain to main`);
});

test('a sample taken in the kernel walks the user stack from the registers saved at the system call', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const r = await profile(t, SYSCALLS, 'dwarf', true, 200);
	const summary = `${r.matched} of ${r.samples} samples (${r.inKernel} in the kernel) reached main through libc; counters ${JSON.stringify(r.counters)}`;
	t.diagnostic(summary);
	assert.ok(r.inKernel / r.samples >= 0.5, summary);
	assert.ok(r.matched / r.samples >= 0.9, summary);
});

test("a signal handler's stack is walked through the signal frame into the interrupted code", async (t) => {
	if (!skipUnlessBpf(t)) return;
	const r = await profile(t, SIGNAL, 'dwarf', true, 300);
	const summary = `${r.matched} of ${r.samples} samples (${r.inHandler} in the handler) had the whole chain; counters ${JSON.stringify(r.counters)}`;
	t.diagnostic(summary);
	assert.ok(r.inHandler >= 0.2 * r.samples, summary);
	assert.ok(r.matched / r.samples >= 0.9, summary);
});

test('a stack deeper than the walker goes keeps its 127 innermost frames and counts as too deep', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const r = await profile(t, DEEP, 'dwarf', true, 100);
	const summary = `${r.fullDepth} of ${r.samples} samples held 127 frames of descend; counters ${JSON.stringify(r.counters)}`;
	assert.ok(r.fullDepth >= 0.9 * r.samples, summary);
	assert.ok(r.counters.unwindTooDeep! >= r.fullDepth, summary);
});

test('a zero return address no rule marks as the outermost frame ends the walk, counted as possibly cut', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const r = await profile(t, ZERO_RETURN, 'dwarf', true, 100);
	const summary = `${r.samples} samples; counters ${JSON.stringify(r.counters)}`;
	assert.ok(r.counters.unwindZeroReturn! >= 0.9 * r.samples, summary);
});

test('a sample in padding that falls through into the next function is walked from its entry, in auto and dwarf mode', async (t) => {
	if (!skipUnlessBpf(t)) return;
	for (const mode of ['auto', 'dwarf'] as const) {
		const r = await profile(t, FALL_THROUGH, mode, true, 200);
		const summary = `${mode}: ${r.matched} of ${r.samples} samples (${r.leaves['?'] ?? 0} in the padding) had the whole chain; counters ${JSON.stringify(r.counters)}`;
		t.diagnostic(summary);
		assert.ok((r.leaves['?'] ?? 0) >= 0.3 * r.samples, summary);
		assert.ok(r.matched / r.samples >= 0.9, summary);
		assert.equal(r.counters.unwindNoTable, 0, summary);
	}
});

/**
 * A table of one rule for the whole file, CFA = rsp + 0 with the return address at CFA - 8: a
 * frame that does not move up the stack (packages/unwind's layout, written by hand). With
 * cfaKind 4 the rule is one the walker cannot evaluate (a DWARF expression).
 */
function standingStillTable(cfaKind = 1): Uint8Array {
	const bytes = new Uint8Array(32 + 2 * 4 + 2 * 2 + 2 * RULE_SIZE);
	const v = new DataView(bytes.buffer);
	v.setUint32(0, 0x57555346, true); // "FSUW"
	v.setUint16(4, TABLE_VERSION, true);
	v.setUint16(6, 32, true);
	v.setUint32(8, 2, true); // rows
	v.setUint32(12, 2, true); // rules
	v.setUint32(32 + 4, 0xffff_fff0, true); // row 1: the closing gap
	v.setUint16(32 + 8 + 2, 1, true);
	const rule0 = 32 + 8 + 4;
	v.setInt16(rule0 + 6, -8, true);
	v.setUint8(rule0 + 8, cfaKind); // 1: CFA from rsp
	v.setUint8(rule0 + RULE_SIZE + 10, 2); // the gap's return address: unsupported
	return bytes;
}

test('a rule that does not move up the stack stops the walk and counts, rather than looping', async (t) => {
	if (!skipUnlessBpf(t)) return;
	let program = '';
	const r = await profile(t, SPLIT, 'dwarf', true, 100, (path) => {
		if (path.includes('split-60-40')) {
			program = path;
			return standingStillTable();
		}
		return buildElfUnwindTable(path).table.bytes;
	});
	const summary = `${r.samples} samples; counters ${JSON.stringify(r.counters)}`;
	assert.ok(program, 'the program was described with the standing-still table');
	assert.equal(r.matched, 0, summary);
	assert.ok(r.counters.unwindNoProgress! >= 0.9 * r.samples, summary);
});

test('a rule the walker cannot evaluate ends the walk in dwarf mode, counted as such; auto goes on with frame pointers', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const withUnsupported = (path: string) => (path.includes('split-60-40') ? standingStillTable(4) : buildElfUnwindTable(path).table.bytes);
	const dwarf = await profile(t, SPLIT, 'dwarf', true, 100, withUnsupported);
	const summary = `${dwarf.samples} samples; counters ${JSON.stringify(dwarf.counters)}`;
	assert.ok(dwarf.counters.unwindRuleUnsupported! >= 0.9 * dwarf.samples, summary);
	assert.equal(dwarf.counters.unwindLookupFailed, 0, summary);
	const auto = await profile(t, SPLIT, 'auto', true, 100, withUnsupported);
	assert.equal(auto.counters.unwindRuleUnsupported, 0, `auto: ${JSON.stringify(auto.counters)}`);
	assert.equal(auto.counters.unwindLookupFailed, 0, `auto: ${JSON.stringify(auto.counters)}`);
});

test('fp mode does not reach main in the same program (the reason for the tables)', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const r = await profile(t, SPLIT, 'fp', false, 200);
	t.diagnostic(`fp: ${r.matched} of ${r.samples} samples had the whole chain to main`);
	assert.ok(r.matched / r.samples < 0.1, `${r.matched} of ${r.samples} samples had the whole chain to main by frame pointers`);
});

test('a process the walker has no mappings for is reported unmapped and counted as pending in dwarf mode', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const r = await profile(t, SPLIT, 'dwarf', false, 50);
	assert.equal(r.matched, 0);
	assert.equal(r.unmappedPids.size, 1);
	assert.ok(
		(r.counters.unwindTablePending ?? 0) >= r.samples,
		`unwindTablePending ${r.counters.unwindTablePending} for ${r.samples} samples`,
	);
});

test('auto mode: a process without frame pointers, not described yet, is walked by frame pointers and its cut stacks counted as pending', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const r = await profile(t, SPLIT, 'auto', false, 100);
	const summary = `${r.matched} of ${r.samples} samples had the whole chain; counters ${JSON.stringify(r.counters)}`;
	t.diagnostic(`auto, not described: ${summary}`);
	assert.equal(r.unmappedPids.size, 1);
	// gcc -O2 keeps no frame pointer: no sample can reach main, and each one is a cut stack.
	assert.equal(r.matched, 0, summary);
	assert.ok((r.counters.unwindTablePending ?? 0) >= 0.9 * r.samples, summary);
	assert.equal(r.counters.unwindFramePointerLost, 0, summary);
});

test('auto mode: a mapping whose table is pending is walked by frame pointers, and a cut stack is counted as pending, not lost', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const r = await profile(t, SPLIT, 'auto', true, 100, undefined, 'pending');
	const summary = `${r.matched} of ${r.samples} samples had the whole chain; counters ${JSON.stringify(r.counters)}`;
	t.diagnostic(`auto, program's table pending: ${summary}`);
	assert.equal(r.matched, 0, summary);
	assert.ok((r.counters.unwindTablePending ?? 0) >= 0.9 * r.samples, summary);
	assert.equal(r.counters.unwindFramePointerLost, 0, summary);
	assert.equal(r.unmappedPids.size, 0, 'a pending mapping is known: no rescan asked');
});

test('tables share the rows budget: a full budget refuses with unwind-full, an unloaded table frees its rows', (t) => {
	if (!skipUnlessBpf(t)) return;
	const program = compileWithoutFramePointers(t, 'split-60-40');
	const table = buildElfUnwindTable(program).table;
	const profiler = new Profiler({ unwind: 'dwarf', unwindRows: table.rowCount, pids: [1] });
	t.after(() => profiler.close());
	profiler.loadUnwindTable(1, table.bytes);
	assert.throws(
		() => profiler.loadUnwindTable(2, table.bytes),
		(err: unknown) => err instanceof NativeError && err.op === 'unwind-full',
	);
	profiler.unloadUnwindTable(1);
	profiler.loadUnwindTable(2, table.bytes);
	assert.throws(() => profiler.loadUnwindTable(3, table.bytes.subarray(0, 40)), /unwind table size/);
	assert.throws(
		() => profiler.setProcessMappings(4242, [{ start: 10n, end: 5n, bias: 0n, fileId: 2, kind: 'table' }]),
		/empty or out of range/,
	);
	profiler.setProcessMappings(4242, [{ start: 0x1000n, end: 0x2000n, bias: 0n, fileId: 2, kind: 'table' }]);
	profiler.removeProcess(4242);
});

test('the fp mode has no unwind maps to load into', (t) => {
	if (!skipUnlessBpf(t)) return;
	const profiler = new Profiler({ unwind: 'fp', pids: [1] });
	t.after(() => profiler.close());
	assert.throws(() => profiler.setProcessMappings(4242, []), /frame pointers only/);
});
