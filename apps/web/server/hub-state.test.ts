import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HubState } from './hub-state.ts';
import { createHubMetrics } from './metrics.ts';
import { RecentRequestBatches } from './recent-requests.ts';

test('past its bound the hub forgets the disconnected host seen longest ago, never a connected one, and counts it on /metrics', async () => {
	let now = 0;
	const state = new HubState(() => now, 3);
	const metrics = createHubMetrics(state);
	for (const host of ['a', 'b', 'c']) {
		now++;
		state.connected(host, '1', 99);
	}
	for (const host of ['a', 'b', 'c']) metrics.windowsIngested.inc({ host });
	state.disconnected('b');
	state.disconnected('a');
	now++;
	state.connected('d', '1', 99);
	assert.deepEqual(
		state.hosts().map((h) => h.host),
		['b', 'c', 'd'],
		'a: disconnected and seen longest ago (b was seen after it)',
	);
	now++;
	state.connected('e', '1', 99);
	assert.deepEqual(
		state.hosts().map((h) => h.host),
		['c', 'd', 'e'],
	);
	// Every host connected: nothing to forget, the bound gives way rather than drop a live host.
	now++;
	state.connected('f', '1', 99);
	assert.equal(state.hosts().length, 4);
	assert.equal(state.hostsForgotten, 2);
	const text = await metrics.registry.metrics();
	assert.match(text, /^firesight_hub_hosts_forgotten_total 2$/m);
	// A forgotten host's label sets go with it.
	assert.deepEqual(text.match(/^firesight_hub_windows_ingested_total\{host="(\w+)"\}/gm), [
		'firesight_hub_windows_ingested_total{host="c"}',
	]);
});

test('the recent requests a new browser is sent are bounded by count, oldest batches first out', () => {
	const recent = new RecentRequestBatches(10);
	const request = { ts: 1, comm: 'x', pid: 1, role: 'server', method: 'GET', path: '/', endpoint: 'GET /', latencyMs: 1 };
	for (let i = 0; i < 8; i++) recent.add('box', { host: 'box', ts: i, omitted: 0, requests: [request, request, request] } as never);
	const kept = recent.list();
	const count = kept.reduce((n, b) => n + b.requests.length, 0);
	assert.ok(count <= 10 + 2, `${count} requests kept, bound 10`);
	assert.ok(count >= 10, `${count} requests kept`);
	assert.deepEqual(
		kept.map((b) => b.ts),
		[4, 5, 6, 7],
	);
});
