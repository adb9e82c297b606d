import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Profiler } from '@firesight/native';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { startWorkload } from '@firesight/testing/workloads';
import { MappingTracker } from './unwind/mapping-tracker.ts';
import { TableBuilder } from './unwind/table-builder.ts';

/*
 * V8 maps new executable memory for its code all the time, so a long-running node process has JIT
 * code the collector has not read in its maps yet. That code has no table to wait for: it is
 * walked by frame pointers, as a described 'jit' mapping is, and nothing is counted. (Before, each
 * such stack counted as unwindTablePending: the soak's other steady source of them.) Here the
 * process is described once and never read again, and it keeps compiling new functions.
 *
 * The kernel cannot say what is mapped at an address while another thread holds the process's
 * mapping lock (V8's threads map and protect code pages all the time). The walker then takes the
 * address for a new file, whose table is pending, and has the process read again; the collector
 * defers such samples until it is. So a few pending stacks are the kernel's, not the walker's:
 * 1 of some 3,000 samples in new code on a quiet machine, 2 of 118 on a busy one. Taking new JIT
 * code for a new file every time makes them all pending.
 */

/** New functions without end: each is compiled, and V8's code space grows past what was read. */
const NEW_CODE = `
console.log('ready');
let n = 0;
for (;;) {
	const f = new Function('x', 'let s = 0; for (let i = 0; i < 2000; i++) s += (x ^ i) * ' + (n++) + '; return s;');
	for (let i = 0; i < 200; i++) f(i);
}
`;

test('JIT code mapped after its process was read is walked by frame pointers, not counted as pending', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const w = await startWorkload(process.execPath, ['--sparkplug', '--always-sparkplug', '-e', NEW_CODE]);
	t.after(w.stop);
	const dir = mkdtempSync(join(tmpdir(), 'firesight-new-jit-'));
	const builder = new TableBuilder(dir);
	const profiler = new Profiler({ frequency: 499, pids: [w.pid], unwind: 'auto' });
	const tracker = new MappingTracker({ target: profiler, build: (paths) => builder.build(paths) });
	t.after(async () => {
		tracker.close();
		await builder.close();
		profiler.close();
		rmSync(dir, { recursive: true, force: true });
	});
	tracker.track(w.pid);
	await tracker.settled();
	const described = tracker.mappingsOf(w.pid) ?? [];
	const inDescribed = (ip: bigint) => described.some((m) => ip >= m.start && ip < m.end);
	await profiler.drain(); // what was walked before the process was described
	// Never read again: the unmapped pids the drains report are not passed on.
	let pending = 0;
	let outside = 0;
	let samples = 0;
	const deadline = Date.now() + 120_000;
	while (outside < 200 && Date.now() < deadline) {
		await sleep(500);
		const d = await profiler.drain();
		pending += d.counters.unwindTablePending;
		for (const c of d.counts) {
			samples += c.count;
			const leaf = d.stacks.get(c.userStackId)?.[0];
			if (leaf !== undefined && !inDescribed(leaf)) outside += c.count;
		}
	}
	const summary = `${outside} of ${samples} samples had their leaf in code mapped after the process was read; ${pending} unwindTablePending`;
	t.diagnostic(summary);
	assert.ok(outside >= 200, summary);
	assert.ok(pending <= outside / 10, summary);
});
