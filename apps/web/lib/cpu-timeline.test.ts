import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brushRange, timelinePoints } from './cpu-timeline.ts';

test('buckets become points at their start, in samples per second', () => {
	assert.deepEqual(timelinePoints({ fromMs: 1000, bucketMs: 10_000, samples: [990, 0] }), [
		{ t: 1000, samples: 990, samplesPerSec: 99 },
		{ t: 11_000, samples: 0, samplesPerSec: 0 },
	]);
});

test('a drag selects whole buckets either way, inside the shown range; a click selects nothing', () => {
	const shown = { from: 0, to: 100_000 };
	assert.deepEqual(brushRange(20_000, 50_000, 10_000, shown), { from: 20_000, to: 60_000 });
	assert.deepEqual(brushRange(50_000, 20_000, 10_000, shown), { from: 20_000, to: 60_000 });
	assert.deepEqual(brushRange(80_000, 95_000, 10_000, shown), { from: 80_000, to: 100_000 });
	assert.equal(brushRange(20_000, 20_000, 10_000, shown), null);
	assert.equal(brushRange(20_000, undefined, 10_000, shown), null);
});
