import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStorage } from '@firesight/store';
import { retransmitWindow, windowConnection } from '@firesight/testing/retransmit-windows';
import { createCaller } from './router.ts';
import { NO_LIVE } from './test-context.ts';

test('network: connections, rates per second, and errors from the closed set', async () => {
	const storage = await openStorage({ backend: 'sqlite', path: ':memory:', pruneIntervalMs: 0 });
	const base = { cookie: '7', pid: 42, comm: 'node', sport: 5000, dport: 80 };
	await storage.connections.insertWindow(retransmitWindow('h', 60_000, [windowConnection({ ...base, retransmits: 30 })]));
	await storage.connections.insertWindow(retransmitWindow('h', 70_000, [windowConnection({ ...base, retransmits: 10 })]));
	const caller = createCaller({ storage, live: NO_LIVE });

	const rows = await caller.network.connections({ fromMs: 0, toMs: 100_000, pid: 42 });
	assert.deepEqual(
		rows.map((r) => [r.pid, r.dport, r.retransmits]),
		[[42, 80, 40]],
	);
	assert.deepEqual(await caller.network.connections({ fromMs: 0, toMs: 100_000, pid: 43 }), []);

	const series = await caller.network.series({ fromMs: 60_000, toMs: 80_000, stepMs: 10_000 });
	assert.deepEqual(series.buckets, [60_000, 70_000]);
	assert.deepEqual(
		series.hosts[0]!.points.map((p) => p.perSecond),
		[3, 1],
	);
	assert.equal(series.processes[0]!.pid, 42);

	await assert.rejects(caller.network.connections({ fromMs: 10, toMs: 5 }), /fromMs must be before toMs/);
	await storage.close();
	// A storage that fails answers with the closed set's UNAVAILABLE.
	await assert.rejects(
		caller.network.connections({ fromMs: 0, toMs: 5 }),
		(err: { firesight?: string }) => err.firesight === 'UNAVAILABLE',
	);
});
