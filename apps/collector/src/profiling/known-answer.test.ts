import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import {
	compileFixture,
	fixturesDir,
	foldedStacks,
	perfRecord,
	runCommand,
	stackShares,
	startWorkload,
} from '@firesight/testing/workloads';

const firesightBin = fileURLToPath(new URL('../../bin/firesight.js', import.meta.url));
const runFiresight = (args: string[]) => runCommand(process.execPath, [firesightBin, ...args]);

const FREQUENCY = 499;
const SECONDS = 4;
const TOLERANCE = 5;
// Below this many samples a 60% share has a standard error over 2.5 points: too few to judge ±5.
const MIN_SAMPLES = 400;

test('C workload: hot_a 60% and hot_b 40%, with the chain up to main, as perf sees it', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const bin = compileFixture('split-60-40');
	t.after(bin.cleanup);
	const w = await startWorkload(bin.path);
	t.after(w.stop);

	// The frame-pointer walk against perf's: both start at once, so their counts compare too. The
	// table walk, which starts once the tables are loaded, has its own tests against perf's DWARF
	// unwinder (unwind-known-answer.test.ts).
	const [folded, perf] = await Promise.all([
		runFiresight([
			'record',
			'--pid',
			String(w.pid),
			'--duration',
			String(SECONDS),
			'--frequency',
			String(FREQUENCY),
			'--unwind',
			'fp',
			'--format',
			'folded',
		]),
		perfRecord(w.pid, SECONDS, FREQUENCY),
	]);
	const stacks = foldedStacks(folded);
	const ours = stackShares(stacks, { a: /^hot_a$/, b: /^hot_b$/ });
	const oracle = stackShares(perf, { a: /^hot_a$/, b: /^hot_b$/ });
	t.diagnostic(`firesight: ${ours.total} samples, hot_a ${ours.shares.a!.toFixed(1)}%, hot_b ${ours.shares.b!.toFixed(1)}%`);
	t.diagnostic(`perf:      ${oracle.total} samples, hot_a ${oracle.shares.a!.toFixed(1)}%, hot_b ${oracle.shares.b!.toFixed(1)}%`);

	assert.ok(ours.total >= MIN_SAMPLES, `only ${ours.total} samples of a busy process`);
	// Both sample the same process over about the same seconds: the counts must be alike too.
	assert.ok(ours.total > oracle.total * 0.6 && ours.total < oracle.total * 1.6, `firesight ${ours.total} samples, perf ${oracle.total}`);
	assert.ok(Math.abs(ours.shares.a! - 60) <= TOLERANCE, `hot_a got ${ours.shares.a}%`);
	assert.ok(Math.abs(ours.shares.b! - 40) <= TOLERANCE, `hot_b got ${ours.shares.b}%`);
	assert.ok(Math.abs(ours.shares.a! - oracle.shares.a!) <= TOLERANCE, `perf says hot_a ${oracle.shares.a}%`);

	// The whole chain: main calls run_rounds calls hot_a, root first, under the process's comm.
	const chain = stacks.filter((s) => s.frames.includes('hot_a'));
	const withChain = chain.filter((s) => /split-60-40;.*main;run_rounds;hot_a(;|$)/.test(s.frames.join(';')));
	const chainShare = withChain.reduce((n, s) => n + s.count, 0) / chain.reduce((n, s) => n + s.count, 0);
	assert.ok(chainShare > 0.95, `only ${(chainShare * 100).toFixed(1)}% of hot_a stacks reach main: ${chain[0]?.frames.join(';')}`);
});

test('Node workload with --perf-basic-prof: hotA 60% and hotB 40% by JavaScript name', async (t) => {
	if (!skipUnlessBpf(t)) return;
	// No inlining, so hotA and hotB keep frames of their own; interpreted frames get names too.
	const w = await startWorkload(process.execPath, [
		'--perf-basic-prof',
		'--interpreted-frames-native-stack',
		'--no-turbo-inlining',
		'--max-inlined-bytecode-size=0',
		`${fixturesDir}/split-60-40.js`,
	]);
	t.after(w.stop);
	await new Promise((r) => setTimeout(r, 1000)); // let the JIT settle on optimized code

	const folded = await runFiresight(['record', '--pid', String(w.pid), '--duration', String(SECONDS), '--frequency', String(FREQUENCY)]);
	const stacks = foldedStacks(folded).filter((s) => s.frames.some((f) => /\bhot[AB]\b/.test(f)));
	const ours = stackShares(stacks, { a: /\bhotA\b/, b: /\bhotB\b/ });
	t.diagnostic(`firesight: ${ours.total} samples in hotA/hotB, hotA ${ours.shares.a!.toFixed(1)}%, hotB ${ours.shares.b!.toFixed(1)}%`);
	assert.ok(ours.total >= MIN_SAMPLES, `only ${ours.total} samples named hotA or hotB`);
	assert.ok(Math.abs(ours.shares.a! - 60) <= TOLERANCE, `hotA got ${ours.shares.a}%`);
	assert.ok(Math.abs(ours.shares.b! - 40) <= TOLERANCE, `hotB got ${ours.shares.b}%`);
	assert.ok(
		stacks.some((s) => s.frames.some((f) => f.endsWith('_[j]'))),
		'JavaScript frames are marked as JIT frames',
	);
});

test('syscall-heavy workload: kernel frames under the right process', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const bin = compileFixture('syscall-heavy');
	t.after(bin.cleanup);
	const w = await startWorkload(bin.path);
	t.after(w.stop);

	// The whole host, so attribution is the profiler's job, not the filter's.
	const folded = await runFiresight(['record', '--duration', '2', '--frequency', String(FREQUENCY)]);
	const mine = foldedStacks(folded).filter((s) => s.frames[0] === 'syscall-heavy');
	const { total, shares } = stackShares(mine, { kernel: /_\[k\]$/ });
	t.diagnostic(`syscall-heavy: ${total} samples, ${shares.kernel!.toFixed(1)}% with kernel frames`);
	assert.ok(total >= 100, `only ${total} samples for the workload`);
	assert.ok(shares.kernel! > 50, `only ${shares.kernel}% of its samples show kernel frames`);
	assert.ok(
		mine.some((s) => /write_\[k\]|do_syscall_64_\[k\]/.test(s.frames.join(';'))),
		'the write path is named in the kernel',
	);
	// Kernel frames come after the user frames that made the call. (libc's write keeps no frame
	// pointer, so a frame-pointer walk from it skips its caller: don't expect main here.)
	const mixed = mine.filter((s) => s.frames.some((f) => f.endsWith('_[k]')) && !s.frames[1]!.endsWith('_[k]'));
	assert.ok(mixed.length > 0, 'stacks that enter the kernel from user code');
	for (const s of mixed) {
		const firstKernel = s.frames.findIndex((f) => f.endsWith('_[k]'));
		assert.ok(
			s.frames.slice(firstKernel).every((f) => f.endsWith('_[k]')),
			`user frame below kernel frames: ${s.frames.join(';')}`,
		);
	}
});
