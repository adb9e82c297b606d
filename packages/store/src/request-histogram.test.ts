import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REQUEST_LATENCY_BUCKETS } from '@firesight/protocol';
import { histogramQuantile } from './request-histogram.ts';

function hist(entries: Record<number, number>): number[] {
	const h = new Array<number>(REQUEST_LATENCY_BUCKETS).fill(0);
	for (const [i, n] of Object.entries(entries)) h[Number(i)] = n;
	return h;
}

test('histogram quantiles interpolate inside the bucket and stay under the largest latency', () => {
	assert.equal(histogramQuantile(hist({}), 0.5), 0);
	assert.equal(histogramQuantile(hist({ 10: 2 }), 0.5), 1.024 + 0.5 * 1.024);
	assert.equal(histogramQuantile(hist({ 10: 2 }), 1, 1.5), 1.5);
});
