import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFERRED_TRIES } from '@firesight/native';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { compileFixture, NO_FRAME_POINTER_FLAGS, startWorkload } from '@firesight/testing/workloads';
import { deferringProfiler } from './deferred-replay-harness.ts';

/*
 * A running program whose tables take longer than DEFERRED_TRIES drains to come (as node's does
 * at start on a busy host): while they are on their way its deferred samples wait, however many
 * drains that takes, and are walked whole once the tables are in, none ended as pending. Here the
 * tables are held back on purpose past the tries, then loaded.
 */

const FREQUENCY = 499;

test('deferred samples wait while their tables are still coming, past the count of tries, and come back whole', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const bin = compileFixture('split-60-40', { compiler: 'gcc', flags: [...NO_FRAME_POINTER_FLAGS, '-Wl,--build-id=none'] });
	t.after(bin.cleanup);
	const w = await startWorkload(bin.path);
	t.after(w.stop);
	const { windows, drain, replayed, describe } = deferringProfiler(t, w.pid, FREQUENCY);
	// Twice the tries, with the program sampled all along and nothing describing it yet.
	for (let i = 0; i < 2 * DEFERRED_TRIES; i++) {
		await new Promise((r) => setTimeout(r, 50));
		await drain();
	}
	const held = windows.at(-1)!.totals;
	assert.ok(held.unwindDeferred > 0, 'its samples were deferred');
	assert.equal(held.unwindTablePending, 0, `none ended pending while its tables were coming: ${JSON.stringify(held)}`);
	// The tables come: the process is read and its table built and loaded.
	await describe();
	// A replay's end is counted in the window being sampled then: one more drain reads the last.
	const d = await drain();
	const k = d.totals;
	const counted = windows.flatMap((x) => x.counts.filter((c) => c.pid === w.pid)).reduce((n, c) => n + c.count, 0);
	const ends = Object.entries(k)
		.filter(([name, n]) => name.startsWith('unwind') && name !== 'unwindDeferred' && n > 0)
		.map(([name, n]) => `${name} ${n}`)
		.join(', ');
	const summary = `${counted} samples in the windows of ${k.samples} the kernel took; deferred ${k.unwindDeferred}, replayed ${replayed()}; ends: ${ends || 'none'}`;
	t.diagnostic(summary);
	assert.equal(counted, k.samples, summary);
	assert.equal(k.unwindDeferRingFull + k.unwindDeferQueueFull, 0, summary);
	// Walked with the tables once in: no walk ended pending, cut or guessed.
	assert.equal(ends, '', summary);
});
