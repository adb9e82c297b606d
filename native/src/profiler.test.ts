import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { onCpuNs } from '@firesight/testing/workloads';
import { Profiler } from './profiler.ts';

test('every sample the kernel takes lands in exactly one drained window', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
	t.after(() => busy.kill('SIGKILL'));
	const profiler = new Profiler({ frequency: 199 });
	t.after(() => profiler.close());
	const ns0 = onCpuNs(busy.pid!);

	let busySamples = 0;
	let windows = 0;
	let drained = 0;
	// At least 5 windows, and until the busy loop has run 1.5 s on a CPU, however busy the machine.
	const deadline = Date.now() + 120_000;
	for (let i = 0; i < 5 || (onCpuNs(busy.pid!) - ns0 < 1.5e9 && Date.now() < deadline); i++) {
		await sleep(300);
		const w = await profiler.drain();
		let counted = 0;
		for (const c of w.counts) {
			counted += c.count;
			if (c.pid === busy.pid) busySamples += c.count;
			if (c.userStackId >= 0) assert.ok(w.stacks.has(c.userStackId), `user stack ${c.userStackId} missing from its window`);
			if (c.kernelStackId >= 0) assert.ok(w.stacks.has(c.kernelStackId), `kernel stack ${c.kernelStackId} missing`);
		}
		// The kernel counts the samples it took into each buffer: every one of them is delivered
		// in that buffer's window, none twice, none left behind; but a sample deferred for its
		// tables, delivered in the window that walks it again.
		assert.equal(
			counted,
			w.counters.samples - w.counters.countsMapFull - w.counters.unwindDeferred + w.replayed,
			`window ${i}: taken ${w.counters.samples}, deferred ${w.counters.unwindDeferred}, replayed ${w.replayed}, delivered ${counted}`,
		);
		assert.equal(w.counters.countsMapFull, 0);
		// In the default mode every stack is stored by its hash: none is lost to a bucket taken by another.
		assert.equal(w.counters.stackCollisions, 0, `window ${i}`);
		assert.equal(w.counters.unwindStacksFull, 0, `window ${i}`);
		windows += w.counters.samples > 0 ? 1 : 0;
		drained = i + 1;
	}
	const onCpu = (onCpuNs(busy.pid!) - ns0) / 1e9;
	t.diagnostic(`busy loop: ${busySamples} samples in ${drained} windows for ${onCpu.toFixed(2)} s on a CPU`);
	assert.equal(windows, drained, 'every window had samples');
	// Against the scheduler's account of the loop: 199 samples for each second it ran on a CPU.
	assert.ok(onCpu >= 1.5, `the busy loop ran only ${onCpu.toFixed(2)} s on a CPU in 2 minutes`);
	assert.ok(
		busySamples > onCpu * 199 * 0.8 && busySamples < onCpu * 199 * 1.2,
		`busy loop got ${busySamples} samples for ${onCpu.toFixed(2)} s on a CPU`,
	);
});

test('a pid filter keeps only that process', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const a = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
	const b = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
	t.after(() => {
		a.kill('SIGKILL');
		b.kill('SIGKILL');
	});
	const profiler = new Profiler({ frequency: 199, pids: [a.pid!] });
	t.after(() => profiler.close());
	// Until both loops have run half a second on a CPU, so that b had its chances to be sampled.
	const [a0, b0] = [onCpuNs(a.pid!), onCpuNs(b.pid!)];
	const pids = new Set<number>();
	for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
		await sleep(300);
		for (const c of (await profiler.drain()).counts) pids.add(c.pid);
		if (onCpuNs(a.pid!) - a0 >= 0.5e9 && onCpuNs(b.pid!) - b0 >= 0.5e9) break;
	}
	assert.deepEqual([...pids], [a.pid]);
});

test('bad options are refused before touching the kernel', () => {
	assert.throws(() => new Profiler({ frequency: 0 }), RangeError);
	assert.throws(() => new Profiler({ frequency: 1.5 }), RangeError);
});
