import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonical, KNOWN_META, knownProfile } from '../fixtures/known-profile.ts';
import type { Frame } from './frame.ts';
import { periodNs, totalWeight } from './profile.ts';
import { ProfileBuilder } from './profile-builder.ts';

const f = (name: string): Frame => ({ name, module: 'm', kind: 'user' });

test('equal (stack, pid, comm) samples merge; a different pid or comm does not', () => {
	const b = new ProfileBuilder({ startMs: 0, durationMs: 1000, frequencyHz: 100 });
	b.appendSample([f('a'), f('b')], 2, { pid: 1, comm: 'x' });
	b.appendSample([f('a'), f('b')], 3, { pid: 1, comm: 'x' });
	b.appendSample([f('a'), f('b')], 1, { pid: 2, comm: 'x' });
	b.appendSample([f('a'), f('b')], 1, { pid: 1, comm: 'y' });
	b.appendSample([f('b'), f('a')], 1, { pid: 1, comm: 'x' });
	const p = b.build();
	assert.equal(p.samples.length, 4);
	assert.equal(p.frames.length, 2);
	assert.deepEqual(p.samples[0], { stack: [0, 1], weight: 5, pid: 1, comm: 'x' });
	assert.deepEqual(p.samples[3], { stack: [1, 0], weight: 1, pid: 1, comm: 'x' });
	assert.equal(totalWeight(p), 8);
});

test('the known profile has the hand-counted samples and metadata', () => {
	const p = knownProfile();
	assert.equal(p.startMs, KNOWN_META.startMs);
	assert.equal(p.durationMs, 10_000);
	assert.equal(p.frequencyHz, 99);
	assert.equal(periodNs(p), 1e9 / 99);
	assert.equal(totalWeight(p), 18);
	assert.equal(p.samples.length, 6);
	assert.ok(canonical(p).includes('100|app|user:app:main;user:app:work;user:app:compute 7'));
	assert.ok(canonical(p).includes('101|app|user:app:main;user:app:work;user:app:compute 1'));
	// main, work, compute, read, entry_SYSCALL_64, ksys_read, fib, start, jsFn
	assert.equal(p.frames.length, 9);
});

test('zero weight adds nothing; bad weights and metadata throw', () => {
	const b = new ProfileBuilder({ startMs: 0, durationMs: 0, frequencyHz: 49 });
	b.appendSample([f('a')], 0, { pid: 1, comm: 'x' });
	assert.equal(b.build().samples.length, 0);
	assert.throws(() => b.appendSample([f('a')], -1, { pid: 1, comm: 'x' }), RangeError);
	assert.throws(() => b.appendSample([f('a')], 1.5, { pid: 1, comm: 'x' }), RangeError);
	assert.throws(() => b.appendSampleIds([7], 1, { pid: 1, comm: 'x' }), RangeError);
	assert.throws(() => new ProfileBuilder({ startMs: 0, durationMs: 0, frequencyHz: 0 }), RangeError);
	assert.throws(() => new ProfileBuilder({ startMs: 0, durationMs: -1, frequencyHz: 1 }), RangeError);
	assert.throws(() => new ProfileBuilder({ startMs: Number.NaN, durationMs: 0, frequencyHz: 1 }), RangeError);
});

test('an empty stack is a valid sample', () => {
	const b = new ProfileBuilder({ startMs: 0, durationMs: 0, frequencyHz: 1 });
	b.appendSample([], 4, { pid: 9, comm: 'k' });
	b.appendSample([], 1, { pid: 9, comm: 'k' });
	assert.deepEqual(b.build().samples, [{ stack: [], weight: 5, pid: 9, comm: 'k' }]);
});

test('samples merge only with equal request labels, which the built profile keeps', () => {
	const b = new ProfileBuilder({ startMs: 0, durationMs: 1000, frequencyHz: 100 });
	const stack = [f('a'), f('b')];
	b.appendSample(stack, 1, { pid: 1, comm: 'x' });
	b.appendSample(stack, 2, { pid: 1, comm: 'x', endpoint: 'GET /a' });
	b.appendSample(stack, 3, { pid: 1, comm: 'x', endpoint: 'GET /a' });
	b.appendSample(stack, 4, { pid: 1, comm: 'x', endpoint: 'GET /b' });
	b.appendSample(stack, 5, { pid: 1, comm: 'x', endpoint: 'GET /a', requestId: 'boot:7' });
	b.appendSample(stack, 6, { pid: 1, comm: 'x', endpoint: 'GET /a', requestId: 'boot:7', ambiguous: true });
	const p = b.build();
	assert.deepEqual(
		p.samples.map((s) => ({ ...s, stack: undefined })),
		[
			{ stack: undefined, weight: 1, pid: 1, comm: 'x' },
			{ stack: undefined, weight: 5, pid: 1, comm: 'x', endpoint: 'GET /a' },
			{ stack: undefined, weight: 4, pid: 1, comm: 'x', endpoint: 'GET /b' },
			{ stack: undefined, weight: 5, pid: 1, comm: 'x', endpoint: 'GET /a', requestId: 'boot:7' },
			{ stack: undefined, weight: 6, pid: 1, comm: 'x', endpoint: 'GET /a', requestId: 'boot:7', ambiguous: true },
		],
	);
	// Appending a built profile keeps every label.
	const again = new ProfileBuilder(p);
	again.appendProfile(p);
	assert.deepEqual(again.build().samples, p.samples);
});
