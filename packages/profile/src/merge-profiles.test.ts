import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonical } from '../fixtures/known-profile.ts';
import type { Frame } from './frame.ts';
import { mergeProfiles } from './merge-profiles.ts';
import { totalWeight } from './profile.ts';
import { ProfileBuilder } from './profile-builder.ts';

const f = (name: string): Frame => ({ name, module: 'm', kind: 'user' });
const labels = { pid: 1, comm: 'x' };

test('merging sums equal samples across windows and re-interns frames', () => {
	const a = new ProfileBuilder({ startMs: 1000, durationMs: 10_000, frequencyHz: 99 });
	a.appendSample([f('a'), f('b')], 2, labels);
	const b = new ProfileBuilder({ startMs: 11_000, durationMs: 10_000, frequencyHz: 99 });
	// Interned in the opposite order, so frame ids differ from profile a's.
	b.appendSample([f('c')], 1, labels);
	b.appendSample([f('b')], 1, labels);
	b.appendSample([f('a'), f('b')], 3, labels);
	const merged = mergeProfiles([a.build(), b.build()]);
	assert.equal(merged.startMs, 1000);
	assert.equal(merged.durationMs, 20_000);
	assert.equal(merged.frequencyHz, 99);
	assert.equal(merged.frames.length, 3);
	assert.equal(totalWeight(merged), 7);
	assert.deepEqual(canonical(merged), ['1|x|user:m:a;user:m:b 5', '1|x|user:m:b 1', '1|x|user:m:c 1']);
});

test('the merged window covers gaps and windows nested inside others', () => {
	const meta = (startMs: number, durationMs: number) => new ProfileBuilder({ startMs, durationMs, frequencyHz: 19 }).build();
	const merged = mergeProfiles([meta(5000, 1000), meta(0, 2000), meta(500, 100)]);
	assert.equal(merged.startMs, 0);
	assert.equal(merged.durationMs, 6000);
	const single = mergeProfiles([meta(42, 7)]);
	assert.equal(single.startMs, 42);
	assert.equal(single.durationMs, 7);
});

test('merging different frequencies or nothing throws', () => {
	const p = (frequencyHz: number) => new ProfileBuilder({ startMs: 0, durationMs: 1, frequencyHz }).build();
	assert.throws(() => mergeProfiles([p(99), p(49)]), RangeError);
	assert.throws(() => mergeProfiles([]), RangeError);
});
