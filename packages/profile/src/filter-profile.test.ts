import assert from 'node:assert/strict';
import { test } from 'node:test';
import { knownProfile } from '../fixtures/known-profile.ts';
import { filterProfile } from './filter-profile.ts';
import { totalWeight } from './profile.ts';

test('filtering by pid keeps only that process and drops unused frames', () => {
	const p = knownProfile();
	const only200 = filterProfile(p, { pids: [200] });
	assert.equal(totalWeight(only200), 2);
	assert.deepEqual(
		only200.frames.map((f) => f.name),
		['start', 'jsFn'],
	);
	assert.equal(only200.startMs, p.startMs);
	assert.equal(only200.durationMs, p.durationMs);
	assert.equal(only200.frequencyHz, p.frequencyHz);
});

test('filters combine: comm and pid must both match', () => {
	const p = knownProfile();
	assert.equal(totalWeight(filterProfile(p, { comms: ['app'] })), 16);
	assert.equal(totalWeight(filterProfile(p, { comms: ['app'], pids: [101] })), 1);
	assert.equal(totalWeight(filterProfile(p, { comms: ['node'], pids: [101] })), 0);
	assert.equal(totalWeight(filterProfile(p, { pids: [100, 200] })), 17);
	assert.equal(totalWeight(filterProfile(p, {})), 18);
	assert.equal(filterProfile(p, { pids: [] }).samples.length, 0);
});
