import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { RetransmitWindow, WindowConnection } from '@firesight/protocol';
import { SqliteConnectionStore } from './connections-sqlite.ts';
import { migrate, migrations } from './migrations.ts';
import { SqliteStore } from './sqlite-store.ts';

function conn(over: Partial<WindowConnection>): WindowConnection {
	return {
		cookie: '1',
		pid: 100,
		comm: 'curl',
		family: 4,
		saddr: '10.0.0.1',
		sport: 40000,
		daddr: '10.0.0.2',
		dport: 443,
		state: 'ESTABLISHED',
		retransmits: 1,
		firstRetransmitAt: null,
		lastRetransmitAt: null,
		...over,
	};
}

function window(host: string, startMs: number, connections: WindowConnection[]): RetransmitWindow {
	return { host, startMs, durationMs: 10_000, connections };
}

test('connections sum over windows per connection; state from the newest; filters by host and pid', async () => {
	const store = new SqliteConnectionStore({ path: ':memory:', pruneIntervalMs: 0 });
	await store.insertRetransmitWindow(window('a', 10_000, [
		conn({ retransmits: 3, firstRetransmitAt: 10_500, lastRetransmitAt: 11_000 }),
		conn({ cookie: '2', pid: 200, comm: 'wget', sport: 40001, retransmits: 1 }),
	]));
	await store.insertRetransmitWindow(window('a', 20_000, [conn({ retransmits: 4, state: 'CLOSE', firstRetransmitAt: 20_100, lastRetransmitAt: 25_000 })]));
	await store.insertRetransmitWindow(window('b', 20_000, [conn({ cookie: '9', retransmits: 2 })]));

	const all = await store.queryConnections({ fromMs: 0, toMs: 100_000 });
	assert.equal(all.length, 3);
	assert.deepEqual(
		{ ...all[0]! },
		{ host: 'a', cookie: '1', pid: 100, comm: 'curl', family: 4, saddr: '10.0.0.1', sport: 40000, daddr: '10.0.0.2', dport: 443, retransmits: 7, state: 'CLOSE', firstTs: 10_500, lastTs: 25_000 },
	);
	assert.deepEqual((await store.queryConnections({ fromMs: 0, toMs: 100_000, host: 'b' })).map((c) => c.retransmits), [2]);
	assert.deepEqual((await store.queryConnections({ fromMs: 0, toMs: 100_000, pid: 200 })).map((c) => c.comm), ['wget']);
	// Windows are selected by their start.
	assert.deepEqual((await store.queryConnections({ fromMs: 15_000, toMs: 100_000, host: 'a' })).map((c) => c.retransmits), [4]);

	const series = await store.querySeries({ fromMs: 0, toMs: 40_000, stepMs: 10_000 });
	assert.equal(series.stepMs, 10_000);
	assert.deepEqual(series.hosts.map((h) => [h.host, h.total, h.points]), [
		['a', 8, [{ t: 10_000, retransmits: 4 }, { t: 20_000, retransmits: 4 }]],
		['b', 2, [{ t: 20_000, retransmits: 2 }]],
	]);
	assert.deepEqual(series.processes.map((p) => [p.host, p.pid, p.total]), [['a', 100, 7], ['b', 100, 2], ['a', 200, 1]]);
	// Windows fall in the bucket their start is in, whatever the alignment.
	await store.insertRetransmitWindow(window('c', 25_500, [conn({ cookie: '3', retransmits: 6 })]));
	const unaligned = await store.querySeries({ fromMs: 3_000, toMs: 40_000, stepMs: 10_000, host: 'c' });
	assert.deepEqual(unaligned.hosts[0]!.points, [{ t: 20_000, retransmits: 6 }]);
	// A tiny step over a long range is widened to a bounded number of buckets.
	const wide = await store.querySeries({ fromMs: 0, toMs: 1e9, stepMs: 1 });
	assert.ok(wide.stepMs >= 1e9 / 5000);
	await store.close();
});

test('prune drops windows past the retention', async () => {
	const store = new SqliteConnectionStore({ path: ':memory:', pruneIntervalMs: 0, retentionMs: 60_000 });
	await store.insertRetransmitWindow(window('a', 0, [conn({})]));
	await store.insertRetransmitWindow(window('a', 100_000, [conn({ cookie: '2' })]));
	assert.equal(await store.prune(120_000), 1);
	assert.deepEqual((await store.queryConnections({ fromMs: 0, toMs: 1e6 })).map((c) => c.cookie), ['2']);
	await store.close();
});

test('shares the profile store file; migrations run by version whatever their order in the list', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-conn-'));
	try {
		const profiles = new SqliteStore({ dataDir: dir, pruneIntervalMs: 0 });
		const connections = new SqliteConnectionStore({ dataDir: dir, pruneIntervalMs: 0 });
		await connections.insertRetransmitWindow(window('a', 1000, [conn({ retransmits: 5 })]));
		assert.equal((await connections.queryConnections({ fromMs: 0, toMs: 1e6 }))[0]?.retransmits, 5);
		await connections.close();
		await profiles.close();

		const db = new Database(':memory:');
		const reversed = [...migrations].reverse();
		const version = migrate(db, reversed);
		assert.equal(version, Math.max(...migrations.map((m) => m.version)));
		assert.ok(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'connection_retransmits'").get());
		db.close();
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
