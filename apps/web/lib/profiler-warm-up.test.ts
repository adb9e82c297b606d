import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostStatus } from '@firesight/protocol';
import { describeWarmUp, hostList, profilerWarmUps, profilerWarmUpsOfQueries } from './profiler-warm-up.ts';

const host = (name: string, extra: Partial<HostStatus> = {}): HostStatus => ({
	host: name,
	connected: true,
	lastSeenMs: 0,
	frequencyHz: 99,
	drops: {},
	...extra,
});
const warm = { feature: 'profile', sinceMs: Date.UTC(2026, 0, 1, 14, 2, 11), tablesLoaded: 23, processesQueued: 4 };

test("the profiler warm-ups of the query's hosts, connected ones only", () => {
	const hosts = [
		host('web-1', { warmingUp: [warm] }),
		host('db-1', { warmingUp: [warm, { feature: 'other', sinceMs: 0 }] }),
		host('gone', { connected: false, warmingUp: [warm] }),
		host('ready'),
	];
	assert.deepEqual(
		profilerWarmUps(hosts, []).map((w) => w.host),
		['db-1', 'web-1'],
	);
	assert.deepEqual(
		profilerWarmUps(hosts, ['web-1', 'ready']).map((w) => w.host),
		['web-1'],
	);
	assert.deepEqual(profilerWarmUps(hosts, ['ready']), []);
	assert.deepEqual(profilerWarmUps(undefined, []), []);
});

test('the warm-ups of several live queries: the hosts any of them covers, every host when one names none', () => {
	const hosts = [host('web-1', { warmingUp: [warm] }), host('db-1', { warmingUp: [warm] }), host('ready')];
	const names = (selections: string[][]) => profilerWarmUpsOfQueries(hosts, selections).map((w) => w.host);
	assert.deepEqual(names([]), []);
	assert.deepEqual(names([['ready']]), []);
	assert.deepEqual(names([['web-1'], ['ready']]), ['web-1']);
	assert.deepEqual(names([['web-1'], ['web-1', 'db-1']]), ['db-1', 'web-1']);
	assert.deepEqual(names([['ready'], []]), ['db-1', 'web-1']);
});

test('a warm-up reads as its start and progress; hosts as a short list', () => {
	assert.match(describeWarmUp(warm), /^since \d\d:\d\d:\d\d · 23 unwind tables loaded · 4 processes to read$/);
	assert.match(describeWarmUp({ feature: 'profile', sinceMs: 0, tablesLoaded: 1, processesQueued: 0 }), /· 1 unwind table loaded$/);
	const w = (h: string) => ({ host: h, ...warm });
	assert.equal(hostList([w('a')]), 'a');
	assert.equal(hostList([w('a'), w('b')]), 'a and b');
	assert.equal(hostList([w('a'), w('b'), w('c'), w('d')]), 'a, b and 2 more');
});
