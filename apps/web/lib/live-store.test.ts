import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bannerFor } from './banner.ts';
import { backoffDelay } from './backoff.ts';
import { parseLiveMessage } from './live-messages.ts';
import { initialLiveState, LiveStore, processRows, reduceConnection, reduceMessage } from './live-store.ts';
import { sortRows } from './sort.ts';

const row = (pid: number, cpuPercent: number) => ({ pid, comm: `p${pid}`, cmdline: '', cpuPercent, samplesPerSec: cpuPercent });

test('process snapshots replace per host and a quiet host is marked stale, not dropped', () => {
	let state = reduceMessage(initialLiveState, { type: 'processes', host: 'a', ts: 1_000, rows: [row(1, 10)] }, 1_000);
	state = reduceMessage(state, { type: 'processes', host: 'b', ts: 9_000, rows: [row(2, 20), row(3, 5)] }, 9_000);
	state = reduceMessage(state, { type: 'processes', host: 'b', ts: 10_000, rows: [row(2, 30)] }, 10_000);
	assert.deepEqual(
		processRows(state.processes, 10_500).map((r) => `${r.host}:${r.pid}:${r.stale ? 'stale' : 'fresh'}`),
		['a:1:stale', 'b:2:fresh'],
	);
	assert.equal(state.history.at(-1)?.cpuPercent, 40);
});

test('the banner shows when the hub goes away and clears when it is back', () => {
	let state = reduceConnection(initialLiveState, 'connecting', null, 0);
	assert.equal(bannerFor(state, 500), null, 'no banner during the first connection');
	state = reduceConnection(state, 'open', null, 600);
	state = reduceMessage(state, { type: 'status', hosts: [{ host: 'h', connected: true, lastSeenMs: 600, frequencyHz: 99, drops: {} }] });
	assert.equal(bannerFor(state, 700), null);
	state = reduceConnection(state, 'closed', 2_000, 1_000);
	assert.equal(bannerFor(state, 1_100)?.kind, 'hub');
	state = reduceConnection(state, 'connecting', null, 2_000);
	assert.equal(bannerFor(state, 2_100)?.kind, 'hub', 'still shown while reconnecting');
	state = reduceConnection(state, 'open', null, 2_200);
	assert.equal(bannerFor(state, 2_300), null);
	state = reduceMessage(state, { type: 'status', hosts: [{ host: 'h', connected: false, lastSeenMs: 2_000, frequencyHz: 99, drops: {} }] });
	assert.equal(bannerFor(state, 7_000)?.kind, 'collector');
});

test('invalid frames are ignored, valid ones decoded', () => {
	assert.equal(parseLiveMessage('{'), null);
	assert.equal(parseLiveMessage('{"type":"bogus"}'), null);
	assert.equal(parseLiveMessage('{"type":"window","host":"h","startMs":1,"durationMs":10}')?.type, 'window');
});

test('backoff grows, caps, and sorting is stable', () => {
	assert.ok(backoffDelay(0, 500, 8_000, () => 1) === 500);
	assert.ok(backoffDelay(3, 500, 8_000, () => 1) === 4_000);
	assert.ok(backoffDelay(10, 500, 8_000, () => 1) === 8_000);
	const rows = [row(1, 5), row(2, 9), row(3, 5)];
	assert.deepEqual(
		sortRows(rows, (r) => r.cpuPercent, 'desc').map((r) => r.pid),
		[2, 1, 3],
	);
	assert.deepEqual(
		sortRows(rows, (r) => r.comm, 'asc').map((r) => r.pid),
		[1, 2, 3],
	);
});

test('the store publishes once per interval however many messages arrive, and connection changes at once', (t) => {
	t.mock.timers.enable({ apis: ['setInterval', 'Date'], now: 50_000 });
	const store = new LiveStore(1000);
	let renders = 0;
	const unsubscribe = store.subscribe(() => renders++);
	for (let i = 0; i < 30; i++) {
		store.update((state) => reduceMessage(state, { type: 'processes', host: 'a', ts: 50_000 + i, rows: [row(1, i)] }, 50_000));
	}
	assert.equal(renders, 0, 'nothing is published between ticks');
	assert.equal(store.getSnapshot().processes.size, 0);
	t.mock.timers.tick(1000);
	assert.equal(renders, 1, 'thirty messages, one publish');
	assert.equal(store.getSnapshot().processes.get('a')?.processes[0]?.cpuPercent, 29, 'the newest state is what is published');
	assert.equal(store.getSnapshot().clock, 51_000, 'stamped with the clock of the publish');
	t.mock.timers.tick(1000);
	assert.equal(renders, 2, 'a quiet second still moves the clock on');
	store.update((state) => reduceConnection(state, 'closed', 60_000, Date.now()), { urgent: true });
	assert.equal(renders, 3);
	assert.equal(store.getSnapshot().connection, 'closed');
	unsubscribe();
	t.mock.timers.tick(5000);
	assert.equal(renders, 3, 'no listener, no timer');
});

test('new requests are published at once after a quiet spell, else within 400 ms of the last publish; other news waits for the interval', (t) => {
	t.mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'], now: 50_000 });
	const store = new LiveStore(1000, 400);
	let renders = 0;
	const unsubscribe = store.subscribe(() => renders++);
	const request = { ts: 50_000, pid: 7, comm: 'node', role: 'server' as const, method: 'GET', path: '/a', endpoint: '/a', status: 200 };
	const batch = (ts: number) => ({
		type: 'requests' as const,
		host: 'a',
		ts,
		omitted: 0,
		requests: [{ ...request, latencyMs: 1, reqBytes: 0, respBytes: 0, local: null, remote: null, connection: null, httpVersion: '1.1' }],
	});
	store.update((state) => reduceMessage(state, { type: 'processes', host: 'a', ts: 50_000, rows: [row(1, 1)] }, 50_000));
	t.mock.timers.tick(400);
	assert.equal(renders, 0, 'a process snapshot waits for the interval');
	store.update((state) => reduceMessage(state, batch(50_001)));
	assert.equal(renders, 1, 'the first requests after a quiet spell are published at once');
	store.update((state) => reduceMessage(state, batch(50_002)));
	store.update((state) => reduceMessage(state, batch(50_003)));
	t.mock.timers.tick(399);
	assert.equal(renders, 1);
	t.mock.timers.tick(1);
	assert.equal(renders, 2, 'two more batches, one publish, 400 ms after the last');
	assert.equal(store.getSnapshot().requests.length, 3);
	t.mock.timers.tick(200);
	assert.equal(renders, 3, 'the interval goes on as before');
	store.update((state) => reduceMessage(state, batch(50_003)));
	t.mock.timers.tick(400);
	assert.equal(renders, 3, 'a batch already seen is no news');
	store.update((state) => reduceMessage(state, batch(50_004)));
	assert.equal(renders, 4);
	unsubscribe();
});
