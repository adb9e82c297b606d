import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import type { UnwindMode } from '@firesight/native';
import { toFolded } from '@firesight/profile';
import { bpfUnavailableReason, skipUnless } from '@firesight/testing/bpf-test-gate';
import {
	compileFixture,
	fixturesDir,
	foldedStacks,
	NO_FRAME_POINTER_FLAGS,
	sampleWithPerf,
	stackShares,
	startWorkload,
	untilOnCpu,
} from '@firesight/testing/workloads';
import { Recording } from '../commands/recording.ts';

/*
 * The DWARF unwinder against its oracle: `perf record --call-graph dwarf` on the same process over
 * the same seconds. The workloads are built as distributions build their packages (gcc -O2, no
 * frame pointers), or are Debian's own binaries, so a frame-pointer walk gets their chains wrong.
 */

const FREQUENCY = 499;
/**
 * How long the workload runs on a CPU while it is sampled: what 4 s gave on an idle machine. A
 * busy machine takes longer to get there and the sample counts stay as large.
 */
const CPU_SECONDS = 4;
const TOLERANCE = 5;
const MIN_SAMPLES = 400;
const PYTHON = '/usr/bin/python3';

type Stack = { frames: string[]; count: number };

function perfUnavailableReason(): string | undefined {
	return spawnSync('perf', ['--version']).status === 0 ? undefined : 'needs perf (Debian package linux-perf)';
}

function pythonUnavailableReason(): string | undefined {
	return spawnSync(PYTHON, ['--version']).status === 0 ? undefined : `needs Debian's python3 at ${PYTHON}`;
}

function ready(t: TestContext, ...more: (string | undefined)[]): boolean {
	return skipUnless(t, bpfUnavailableReason(), perfUnavailableReason(), ...more);
}

/**
 * `firesight record`'s sampling (in this process, so that it can end when the workload has run
 * `cpuSeconds` on a CPU) and perf --call-graph dwarf on one process: ours starts once the tables
 * are loaded, as the command's does, perf then, and both end together. Ours root first, perf's
 * leaf first.
 */
async function recordBoth(pid: number, unwind: UnwindMode, cpuSeconds = CPU_SECONDS): Promise<{ ours: Stack[]; perf: Stack[] }> {
	return sampleWithPerf(pid, { frequency: FREQUENCY, cpuSeconds, callGraph: 'dwarf' }, async () => {
		const recording = new Recording({ frequency: FREQUENCY, pids: [pid], unwind });
		await recording.warmUp();
		return async () => foldedStacks(toFolded(await recording.stop()));
	});
}

/** User frames only, root first (ours come root first after the comm; perf's leaf first). */
const userFrames = (s: Stack, order: 'ours' | 'perf') =>
	order === 'ours' ? s.frames.slice(1).filter((f) => !f.endsWith('_[k]')) : [...s.frames].reverse().filter((f) => !/^\[unknown\]$/.test(f));

/** Share (0-1) of the samples of `stacks` that satisfy `test`. */
function share(stacks: readonly Stack[], test: (s: Stack) => boolean): number {
	const total = stacks.reduce((n, s) => n + s.count, 0);
	return total === 0 ? 0 : stacks.filter(test).reduce((n, s) => n + s.count, 0) / total;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

test('gcc -O2 60/40 workload: shares as perf --call-graph dwarf sees them, and the chain main → run_rounds → leaf', async (t) => {
	if (!ready(t)) return;
	const bin = compileFixture('split-60-40', { compiler: 'gcc', flags: NO_FRAME_POINTER_FLAGS });
	t.after(bin.cleanup);
	const w = await startWorkload(bin.path);
	t.after(w.stop);
	const { ours, perf } = await recordBoth(w.pid, 'dwarf');
	const mine = stackShares(ours, { a: /^hot_a$/, b: /^hot_b$/ });
	const oracle = stackShares(perf, { a: /^hot_a$/, b: /^hot_b$/ });
	const chain = share(ours, (s) => /;main;run_rounds;hot_[ab]$/.test(userFrames(s, 'ours').join(';').replace(/^/, ';')));
	const perfChain = share(perf, (s) => /;main;run_rounds;hot_[ab]$/.test(';' + userFrames(s, 'perf').join(';')));
	t.diagnostic(
		`firesight: ${mine.total} samples, hot_a ${mine.shares.a!.toFixed(1)}%, hot_b ${mine.shares.b!.toFixed(1)}%, whole chain ${pct(chain)}`,
	);
	t.diagnostic(
		`perf:      ${oracle.total} samples, hot_a ${oracle.shares.a!.toFixed(1)}%, hot_b ${oracle.shares.b!.toFixed(1)}%, whole chain ${pct(perfChain)}`,
	);
	assert.ok(mine.total >= MIN_SAMPLES, `only ${mine.total} samples of a busy process`);
	assert.ok(Math.abs(mine.shares.a! - oracle.shares.a!) <= TOLERANCE, `hot_a ${mine.shares.a}%, perf says ${oracle.shares.a}%`);
	assert.ok(Math.abs(mine.shares.b! - oracle.shares.b!) <= TOLERANCE, `hot_b ${mine.shares.b}%, perf says ${oracle.shares.b}%`);
	assert.ok(chain >= 0.9, `only ${pct(chain)} of samples carry main → run_rounds → leaf: ${ours[0]?.frames.join(';')}`);
});

test('qsort with a heavy comparator: the chain crosses from the program into libc and back, as perf sees it', async (t) => {
	if (!ready(t)) return;
	const bin = compileFixture('qsort-libc', { compiler: 'gcc', flags: NO_FRAME_POINTER_FLAGS });
	t.after(bin.cleanup);
	const w = await startWorkload(bin.path);
	t.after(w.stop);
	const { ours, perf } = await recordBoth(w.pid, 'dwarf');
	// main → sort_rounds → (libc's qsort frames, at least one) → compare_heavy [→ heavy_key]
	const crossing = /;main;sort_rounds;(?:[^;]+;)+compare_heavy(;heavy_key)?$/;
	const inCompare = (s: Stack, order: 'ours' | 'perf') => userFrames(s, order).includes('compare_heavy');
	const oursCmp = ours.filter((s) => inCompare(s, 'ours'));
	const perfCmp = perf.filter((s) => inCompare(s, 'perf'));
	const chain = share(oursCmp, (s) => crossing.test(';' + userFrames(s, 'ours').join(';')));
	const perfChain = share(perfCmp, (s) => crossing.test(';' + userFrames(s, 'perf').join(';')));
	const libcFrame = oursCmp.find((s) => crossing.test(';' + userFrames(s, 'ours').join(';')));
	t.diagnostic(`firesight: ${pct(share(ours, (s) => inCompare(s, 'ours')))} in compare_heavy, ${pct(chain)} of them with the whole chain`);
	t.diagnostic(
		`perf:      ${pct(share(perf, (s) => inCompare(s, 'perf')))} in compare_heavy, ${pct(perfChain)} of them with the whole chain`,
	);
	t.diagnostic(`e.g. ${libcFrame ? userFrames(libcFrame, 'ours').join(';') : '(none)'}`);
	assert.ok(oursCmp.reduce((n, s) => n + s.count, 0) >= MIN_SAMPLES / 2, 'samples in the comparator');
	assert.ok(chain >= 0.9, `only ${pct(chain)} of comparator samples reach main through qsort: ${oursCmp[0]?.frames.join(';')}`);
	assert.ok(Math.abs(chain - perfChain) <= 0.1, `perf's whole-chain share is ${pct(perfChain)}`);
});

test("Debian's python3 running a CPU loop: samples reach Py_BytesMain, and the top native functions are perf's", async (t) => {
	if (!ready(t, pythonUnavailableReason())) return;
	const w = await startWorkload(PYTHON, [`${fixturesDir}/cpu-loop.py`]);
	t.after(w.stop);
	const { ours, perf } = await recordBoth(w.pid, 'dwarf');
	const reachesMain = (s: Stack, order: 'ours' | 'perf') => userFrames(s, order).some((f) => f === 'Py_BytesMain' || f === 'Py_RunMain');
	const mainShare = share(ours, (s) => reachesMain(s, 'ours'));
	const perfMain = share(perf, (s) => reachesMain(s, 'perf'));
	// By the innermost frame either side can name: perf says [unknown] and we say file+0x... for
	// the interpreter's static functions (Debian strips .symtab).
	const top = (stacks: readonly Stack[], order: 'ours' | 'perf') => {
		const by = new Map<string, number>();
		for (const s of stacks) {
			const leaf = userFrames(s, order).findLast((f) => !/\+0x[0-9a-f]+$/.test(f));
			if (leaf !== undefined) by.set(leaf, (by.get(leaf) ?? 0) + s.count);
		}
		return [...by].sort((a, b) => b[1] - a[1]).map(([name]) => name);
	};
	const oursTop = top(ours, 'ours').slice(0, 5);
	const perfTop = top(perf, 'perf').slice(0, 5);
	t.diagnostic(`firesight: ${pct(mainShare)} reach Py_BytesMain/Py_RunMain; top: ${oursTop.join(', ')}`);
	t.diagnostic(`perf:      ${pct(perfMain)} reach Py_BytesMain/Py_RunMain; top: ${perfTop.join(', ')}`);
	assert.ok(ours.reduce((n, s) => n + s.count, 0) >= MIN_SAMPLES, 'samples of a busy interpreter');
	assert.ok(mainShare >= 0.9, `only ${pct(mainShare)} of samples reach Py_BytesMain: ${ours[0]?.frames.join(';')}`);
	assert.ok(oursTop.slice(0, 3).includes(perfTop[0]!), `perf's top function ${perfTop[0]} is not in ours: ${oursTop.join(', ')}`);
	const common = oursTop.filter((f) => perfTop.includes(f)).length;
	assert.ok(common >= 3, `only ${common} of the top 5 native functions agree`);
});

test('Node with --perf-basic-prof --interpreted-frames-native-stack: JavaScript names, and the native frames below them whole', async (t) => {
	if (!ready(t)) return;
	const w = await startWorkload(process.execPath, [
		'--perf-basic-prof',
		'--interpreted-frames-native-stack',
		'--no-turbo-inlining',
		'--max-inlined-bytecode-size=0',
		`${fixturesDir}/split-60-40.js`,
	]);
	t.after(w.stop);
	await untilOnCpu(w.pid, 1); // let the JIT settle on optimized code
	// Twice as long: the JavaScript is walked by frame pointers and perf works alongside.
	const { ours, perf } = await recordBoth(w.pid, 'auto', 2 * CPU_SECONDS);
	const hot = ours.filter((s) => s.frames.some((f) => /\bhot[AB]\b/.test(f)));
	const perfHot = perf.filter((s) => s.frames.some((f) => /\bhot[AB]\b/.test(f)));
	const named = stackShares(hot, { a: /\bhotA\b/, b: /\bhotB\b/ });
	const perfNamed = stackShares(perfHot, { a: /\bhotA\b/, b: /\bhotB\b/ });
	// Below the JavaScript: V8's entry, node's event loop, node::Start (main is a tail call into
	// it), libc's start and _start. perf's DWARF unwinder stops at JIT code, which has no .eh_frame.
	const whole = share(hot, (s) => {
		const frames = userFrames(s, 'ours');
		return frames[0] === '_start' && frames.some((f) => f.startsWith('node::Start('));
	});
	const perfWhole = share(perfHot, (s) => userFrames(s, 'perf').some((f) => f.startsWith('node::Start(')));
	t.diagnostic(
		`firesight: ${named.total} samples in hotA/hotB, hotA ${named.shares.a!.toFixed(1)}%, ${pct(whole)} reach _start through node::Start`,
	);
	t.diagnostic(
		`perf:      ${perfNamed.total} samples in hotA/hotB, hotA ${perfNamed.shares.a!.toFixed(1)}%, ${pct(perfWhole)} reach node::Start`,
	);
	assert.ok(named.total >= MIN_SAMPLES, `only ${named.total} samples named hotA or hotB`);
	assert.ok(Math.abs(named.shares.a! - 60) <= TOLERANCE, `hotA got ${named.shares.a}%`);
	assert.ok(
		hot.some((s) => s.frames.some((f) => f.endsWith('_[j]'))),
		'JavaScript frames are marked as JIT frames',
	);
	assert.ok(whole >= 0.9, `only ${pct(whole)} of JavaScript samples have their native frames down to _start: ${hot[0]?.frames.join(';')}`);
});

test('a signal handler and a PLT stub: reached through the trampoline or cut short, never an invented caller', async (t) => {
	if (!ready(t)) return;
	const bin = compileFixture('signal-plt', { compiler: 'gcc', flags: NO_FRAME_POINTER_FLAGS });
	t.after(bin.cleanup);
	const w = await startWorkload(bin.path);
	t.after(w.stop);
	const { ours, perf } = await recordBoth(w.pid, 'dwarf');
	// Each of the program's functions has one caller; the handler's is the signal trampoline, one
	// address in libc (__restore_rt, a local symbol that Debian's stripped libc does not name).
	const callers: Record<string, string> = {
		main: '__libc_start_call_main',
		run_loops: 'main',
		plt_loop: 'run_loops',
		on_prof: '<trampoline>',
		handler_work: 'on_prof',
	};
	const trampolines = new Set<string>();
	const invented = new Set<string>();
	let inHandler = 0;
	let handlerReached = 0;
	let inPlt = 0;
	for (const s of ours) {
		const frames = userFrames(s, 'ours');
		frames.forEach((f, i) => {
			// A walk that ended here has no caller: cut short (and counted by the kernel), not wrong.
			if (i === 0) return;
			const caller = frames[i - 1]!;
			if (f === 'on_prof') trampolines.add(caller);
			else if (callers[f] !== undefined && callers[f] !== caller) invented.add(frames.slice(Math.max(0, i - 3), i + 1).join(';'));
			// A leaf in the program's own file but in no function of it: its PLT stubs.
			if (i === frames.length - 1 && /^signal-plt\+0x[0-9a-f]+$/.test(f)) {
				inPlt += s.count;
				if (caller !== 'plt_loop') invented.add(frames.slice(Math.max(0, i - 3), i + 1).join(';'));
			}
		});
		const h = frames.indexOf('on_prof');
		if (h < 0) continue;
		inHandler += s.count;
		if (frames.slice(0, h).includes('main')) handlerReached += s.count;
	}
	const perfHandler = share(perf, (s) => userFrames(s, 'perf').includes('on_prof'));
	const perfPlt = share(perf, (s) => /@plt$/.test(userFrames(s, 'perf').at(-1) ?? ''));
	t.diagnostic(
		`firesight: ${inHandler} samples in the handler, ${handlerReached} of them reach main; ${inPlt} in a PLT stub; trampoline ${[...trampolines].join(', ')}`,
	);
	t.diagnostic(`perf:      ${pct(perfHandler)} of samples in the handler, ${pct(perfPlt)} in a PLT stub`);
	assert.deepEqual([...invented].slice(0, 5), [], 'callers the program does not have');
	assert.ok(inHandler > 0, 'the handler was sampled');
	assert.ok(
		trampolines.size <= 1 && [...trampolines].every((f) => /^(__restore_rt|libc\.so\.6\+0x[0-9a-f]+)$/.test(f)),
		`handler callers: ${[...trampolines].join(', ')}`,
	);
	const main = share(ours, (s) => userFrames(s, 'ours').includes('main'));
	assert.ok(main >= 0.9, `only ${pct(main)} of samples reach main`);
});
