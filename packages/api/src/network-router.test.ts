import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SqliteConnectionStore, type Store } from '@firesight/store';
import type { LiveConnectionsMessage } from '@firesight/protocol';
import { createCaller } from './router.ts';

const snapshot = (host: string): LiveConnectionsMessage => ({
	type: 'connections',
	host,
	ts: 1,
	connections: [],
	omitted: 0,
	processes: [],
	totals: { connections: 0, openConnections: 0, retransmits: 0, retransmitsPerSecond: 0 },
});

test('network: connections, rates per second, live snapshots, and errors from the closed set', async () => {
	const connections = new SqliteConnectionStore({ path: ':memory:', pruneIntervalMs: 0 });
	const base = { cookie: '7', pid: 42, comm: 'node', family: 4 as const, saddr: '10.0.0.1', sport: 5000, daddr: '10.0.0.2', dport: 80, state: 'ESTABLISHED', firstRetransmitAt: null, lastRetransmitAt: null };
	await connections.insertRetransmitWindow({ host: 'h', startMs: 60_000, durationMs: 10_000, connections: [{ ...base, retransmits: 30 }] });
	await connections.insertRetransmitWindow({ host: 'h', startMs: 70_000, durationMs: 10_000, connections: [{ ...base, retransmits: 10 }] });
	const live = { hosts: () => [], processes: () => [], connections: (host?: string) => ['h', 'g'].filter((h) => !host || h === host).map(snapshot) };
	const caller = createCaller({ store: {} as Store, live, connections });

	const rows = await caller.network.connections({ fromMs: 0, toMs: 100_000, pid: 42 });
	assert.deepEqual(rows.map((r) => [r.pid, r.dport, r.retransmits]), [[42, 80, 40]]);
	assert.deepEqual(await caller.network.connections({ fromMs: 0, toMs: 100_000, pid: 43 }), []);

	const series = await caller.network.series({ fromMs: 60_000, toMs: 80_000, stepMs: 10_000 });
	assert.deepEqual(series.buckets, [60_000, 70_000]);
	assert.deepEqual(series.hosts[0]!.points.map((p) => p.perSecond), [3, 1]);
	assert.equal(series.processes[0]!.pid, 42);

	assert.deepEqual((await caller.network.live({ host: 'g' })).map((m) => m.host), ['g']);
	assert.equal((await caller.network.live()).length, 2);

	await assert.rejects(caller.network.connections({ fromMs: 10, toMs: 5 }), /fromMs must be before toMs/);
	const bare = createCaller({ store: {} as Store, live: { hosts: () => [], processes: () => [] } });
	await assert.rejects(bare.network.connections({ fromMs: 0, toMs: 5 }), (err: { firesight?: string }) => err.firesight === 'UNAVAILABLE');
	assert.deepEqual(await bare.network.live(), []);
	await connections.close();
});
