import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostRows } from './hosts.ts';
import type { HostProcesses } from './live-store.ts';

const row = (pid: number, cpuPercent: number) => ({ pid, comm: 'p', cmdline: 'p', cpuPercent, samplesPerSec: 1 });

test('a row per host: live status first, the store for hosts only it knows', () => {
	const processes = new Map<string, HostProcesses>([
		['web-1', { ts: 1, receivedAt: 1, processes: [row(1, 12.5), row(2, 30)] }],
		['web-2', { ts: 1, receivedAt: 1, processes: [row(3, 99)] }],
	]);
	const rows = hostRows(
		[
			{
				host: 'web-2',
				connected: false,
				lastSeenMs: 500,
				frequencyHz: 49,
				drops: {},
			},
			{
				host: 'web-1',
				connected: true,
				lastSeenMs: 1000,
				frequencyHz: 97,
				version: '0.1.0',
				drops: { 'profile.userStackMissing': 3, 'tcp.ringBufferFull': 40, 'tls.mapFull': 0 },
				features: { running: ['profile', 'tcp'], failed: [{ name: 'tls', reason: 'uprobes refused' }] },
				warmingUp: [{ feature: 'profile', sinceMs: 5, tablesLoaded: 2 }],
				spool: { messages: 3, bytes: 4096 },
			},
		],
		[
			{ host: 'old', lastSeenMs: 10, frequencyHz: 99, windows: 4 },
			{ host: 'web-1', lastSeenMs: 900, frequencyHz: 97, windows: 7 },
		],
		processes,
	);
	assert.deepEqual(
		rows.map((r) => r.host),
		['old', 'web-1', 'web-2'],
	);
	const [old, web1, web2] = rows;
	assert.deepEqual([old?.connected, old?.windows, old?.cpuPercent, old?.lastSeenMs], [false, 4, null, 10]);
	assert.equal(web1?.cpuPercent, 42.5);
	assert.equal(web1?.drops, 43);
	assert.deepEqual(web1?.dropCounters, [
		['tcp.ringBufferFull', 40],
		['profile.userStackMissing', 3],
	]);
	assert.deepEqual(web1?.running, ['profile', 'tcp']);
	assert.deepEqual(web1?.warmingUp, [{ feature: 'profile', sinceMs: 5, tablesLoaded: 2 }]);
	assert.deepEqual(web1?.failed, [{ name: 'tls', reason: 'uprobes refused' }]);
	assert.deepEqual([web1?.version, web1?.windows, web1?.lastSeenMs], ['0.1.0', 7, 1000]);
	assert.deepEqual(web1?.spool, { messages: 3, bytes: 4096 });
	assert.equal(web2?.spool, null);
	// A disconnected host's last table is no current CPU use.
	assert.deepEqual([web2?.cpuPercent, web2?.windows, web2?.version], [null, 0, null]);
});

test('without the store, windows are unknown rather than zero', () => {
	const [only] = hostRows([{ host: 'a', connected: true, lastSeenMs: 1, frequencyHz: 97, drops: {} }], null, new Map());
	assert.deepEqual([only?.windows, only?.cpuPercent], [null, null]);
});
