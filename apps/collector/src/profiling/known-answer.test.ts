import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UnwindMode } from '@firesight/native';
import { toFolded } from '@firesight/profile';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import {
	compileFixture,
	fixturesDir,
	foldedStacks,
	sampleUntilOnCpu,
	sampleWithPerf,
	stackShares,
	startWorkload,
	untilOnCpu,
} from '@firesight/testing/workloads';
import { Recording } from '../commands/recording.ts';

const FREQUENCY = 499;
/**
 * How long the workload runs on a CPU while it is sampled: what 4 s gave on an idle machine. A
 * busy machine takes longer to get there and the sample counts stay as large.
 */
const CPU_SECONDS = 4;
const TOLERANCE = 5;
// Below this many samples a 60% share has a standard error over 2.5 points: too few to judge ±5.
const MIN_SAMPLES = 400;

/**
 * `firesight record`'s sampling of one process (or the whole host), in this process so that it
 * can end when the workload has run long enough: it starts once the unwind tables are in, as the
 * command's does, and its end gives the folded stacks the command would print.
 */
function recorder(pid: number | undefined, unwind: UnwindMode) {
	return async () => {
		const recording = new Recording({ frequency: FREQUENCY, pids: pid === undefined ? [] : [pid], unwind });
		await recording.warmUp();
		return async () => foldedStacks(toFolded(await recording.stop()));
	};
}

test('C workload: hot_a 60% and hot_b 40%, with the chain up to main, as perf sees it', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const bin = compileFixture('split-60-40');
	t.after(bin.cleanup);
	const w = await startWorkload(bin.path);
	t.after(w.stop);

	// The frame-pointer walk against perf's: perf starts once ours samples and both end together,
	// so their counts compare too. The table walk has its own tests against perf's DWARF unwinder
	// (unwind-known-answer.test.ts).
	const { ours: stacks, perf } = await sampleWithPerf(w.pid, { frequency: FREQUENCY, cpuSeconds: CPU_SECONDS }, recorder(w.pid, 'fp'));
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
	await untilOnCpu(w.pid, 1); // let the JIT settle on optimized code

	const stacks = (await sampleUntilOnCpu(w.pid, CPU_SECONDS, recorder(w.pid, 'auto'))).filter((s) =>
		s.frames.some((f) => /\bhot[AB]\b/.test(f)),
	);
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

	// The whole host, so attribution is the profiler's job, not the filter's; until the workload
	// has run half what the others do (about 1,000 samples), however busy the host.
	const mine = (await sampleUntilOnCpu(w.pid, CPU_SECONDS / 2, recorder(undefined, 'auto'))).filter((s) => s.frames[0] === 'syscall-heavy');
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
