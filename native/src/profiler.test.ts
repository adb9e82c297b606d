import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { skipUnlessBpf } from './bpf-test-gate.ts';
import { Profiler } from './profiler.ts';

test('every sample the kernel takes lands in exactly one drained window', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
	t.after(() => busy.kill('SIGKILL'));
	const profiler = new Profiler({ frequency: 199 });
	t.after(() => profiler.close());

	let counted = 0;
	let busySamples = 0;
	let samplesTotal = 0;
	for (let i = 0; i < 5; i++) {
		await sleep(300);
		const w = await profiler.drain();
		for (const c of w.counts) {
			counted += c.count;
			if (c.pid === busy.pid) busySamples += c.count;
			if (c.userStackId >= 0) assert.ok(w.stacks.has(c.userStackId), `user stack ${c.userStackId} missing from its window`);
			if (c.kernelStackId >= 0) assert.ok(w.stacks.has(c.kernelStackId), `kernel stack ${c.kernelStackId} missing`);
		}
		samplesTotal = w.counters.samples;
		assert.equal(w.counters.countsMapFull, 0);
	}
	profiler.close();
	// The kernel counted `samplesTotal` samples up to the last drain; each was delivered once,
	// except those taken during that drain's grace period, which belong to the next window.
	assert.ok(counted <= samplesTotal, `counted ${counted} > taken ${samplesTotal}: a sample was read twice`);
	assert.ok(samplesTotal - counted <= 4, `taken ${samplesTotal}, delivered ${counted}: samples were lost`);
	// A busy process on 2 CPUs at 199 Hz for 1.5 s: about 300 samples.
	assert.ok(busySamples > 150, `busy loop got only ${busySamples} samples`);
});

test('a pid filter keeps only that process', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const a = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
	const b = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
	t.after(() => { a.kill('SIGKILL'); b.kill('SIGKILL'); });
	const profiler = new Profiler({ frequency: 199, pids: [a.pid!] });
	t.after(() => profiler.close());
	await sleep(500);
	const w = await profiler.drain();
	const pids = new Set(w.counts.map((c) => c.pid));
	assert.deepEqual([...pids], [a.pid]);
});

test('bad options are refused before touching the kernel', () => {
	assert.throws(() => new Profiler({ frequency: 0 }), RangeError);
	assert.throws(() => new Profiler({ frequency: 1.5 }), RangeError);
});
