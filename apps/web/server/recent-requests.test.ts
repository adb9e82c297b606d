import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestBatch } from '@firesight/protocol';
import { requestRecord } from '@firesight/testing/request-records';
import { HubState } from './hub-state.ts';
import { createHubMetrics } from './metrics.ts';
import { RecentRequestBatches } from './recent-requests.ts';

const batch = (host: string, ts: number, n: number): RequestBatch => ({
	host,
	ts,
	omitted: 1,
	requests: Array.from({ length: n }, (_, i) => requestRecord({ path: `/${ts}/${i}` })),
});

test('browsers are sent a host’s requests up to the live budget a second, the newest of each batch; the rest are counted', () => {
	let clock = 1000;
	const recent = new RecentRequestBatches(1000, 10, () => clock);
	const first = recent.add('a', batch('a', 1, 6));
	assert.equal(first.requests.length, 6);
	const second = recent.add('a', batch('a', 2, 6));
	assert.deepEqual(
		second.requests.map((r) => r.path),
		['/2/2', '/2/3', '/2/4', '/2/5'],
		'the newest of the batch, within what is left of the second',
	);
	assert.equal(second.omitted, 1 + 2, 'the collector’s omitted and the thinned');
	assert.equal(recent.add('b', batch('b', 3, 10)).requests.length, 10, 'each host its own budget');
	assert.equal(recent.add('a', batch('a', 4, 3)).requests.length, 0);
	clock += 500;
	assert.equal(recent.add('a', batch('a', 5, 8)).requests.length, 5, 'half a second later, half the budget');
	assert.equal(recent.thinned, 2 + 3 + 3);
});

test('the thinned count reaches /metrics', async () => {
	const state = new HubState();
	const metrics = createHubMetrics(state);
	state.requests(batch('h', 1, 2_500));
	assert.match(await metrics.registry.metrics(), /^firesight_hub_live_requests_thinned_total 500$/m);
});
