import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ProfileWindow } from '@firesight/protocol';
import { SqliteStore } from './sqlite-store.ts';
import { migrate, migrations } from './migrations.ts';

const T0 = 1_700_000_000_000;

function tempDir(): string {
	return mkdtempSync(join(tmpdir(), 'firesight-store-'));
}

function window(host: string, startMs: number, stacks: ProfileWindow['stacks'], frequencyHz = 100): ProfileWindow {
	return {
		host,
		startMs,
		durationMs: 10_000,
		frequencyHz,
		frames: [
			{ name: 'main', module: 'app', kind: 'user' },
			{ name: 'hot', module: 'app', kind: 'user' },
			{ name: 'cold', module: 'app', kind: 'user' },
			{ name: 'unused', module: 'app', kind: 'user' },
			{ name: 'do_syscall_64', module: '[kernel.kallsyms]', kind: 'kernel' },
		],
		stacks,
	};
}

const hotStack = (pid: number, comm: string, count: number) => ({ pid, comm, frameIds: [0, 1], count });
const coldStack = (pid: number, comm: string, count: number) => ({ pid, comm, frameIds: [0, 2, 4], count });

function names(agg: { frames: { name: string }[] }, ids: number[]): string {
	return ids.map((i) => agg.frames[i]!.name).join(';');
}

test('windows merge over a range with host, pid and comm filters', async () => {
	const dir = tempDir();
	const store = new SqliteStore({ dataDir: dir, pruneIntervalMs: 0, now: () => T0 });
	try {
		await store.insertWindow(window('a', T0, [hotStack(1, 'app', 5), coldStack(1, 'app', 2), hotStack(2, 'other', 3)]));
		await store.insertWindow(window('a', T0 + 10_000, [hotStack(1, 'app', 7)]));
		await store.insertWindow(window('b', T0, [hotStack(1, 'app', 11)]));

		const all = await store.queryStacks({ fromMs: T0, toMs: T0 + 20_000 });
		assert.equal(all.windows, 3);
		assert.equal(all.totalSamples, 5 + 2 + 3 + 7 + 11);
		// Frames interned per host in the database come back merged: one 'hot' for both hosts.
		assert.equal(all.frames.filter((f) => f.name === 'hot').length, 1);
		assert.equal(all.frames.some((f) => f.name === 'unused'), false);

		const hostA = await store.queryStacks({ fromMs: T0, toMs: T0 + 20_000, host: 'a', pid: 1 });
		const byStack = new Map(hostA.stacks.map((s) => [names(hostA, s.frameIds), s.count]));
		assert.equal(byStack.get('main;hot'), 12);
		assert.equal(byStack.get('main;cold;do_syscall_64'), 2);
		assert.equal(hostA.frames.find((f) => f.name === 'do_syscall_64')?.kind, 'kernel');

		const other = await store.queryStacks({ fromMs: T0, toMs: T0 + 20_000, comm: 'other' });
		assert.equal(other.totalSamples, 3);
		assert.deepEqual(other.stacks.map((s) => [s.host, s.pid]), [['a', 2]]);

		// Only the second window of host a overlaps this range.
		const later = await store.queryStacks({ fromMs: T0 + 12_000, toMs: T0 + 13_000 });
		assert.equal(later.windows, 1);
		assert.equal(later.totalSamples, 7);

		const empty = await store.queryStacks({ fromMs: T0 - 60_000, toMs: T0 - 30_000 });
		assert.deepEqual([empty.windows, empty.totalSamples, empty.stacks.length, empty.frequencyHz], [0, 0, 0, 0]);

		const hosts = await store.listHosts();
		assert.deepEqual(hosts.map((h) => [h.host, h.windows, h.lastMs]), [['a', 2, T0 + 20_000], ['b', 1, T0 + 10_000]]);
		assert.equal((await store.findProcess(2))?.comm, 'other');
		assert.equal(await store.findProcess(2, 'b'), null);
		assert.equal(await store.findProcess(999), null);
	} finally {
		await store.close();
		rmSync(dir, { recursive: true, force: true });
	}
});

test('frames and stacks are stored once per host and survive reopening', async () => {
	const dir = tempDir();
	let store = new SqliteStore({ dataDir: dir, pruneIntervalMs: 0 });
	try {
		for (let i = 0; i < 5; i++) await store.insertWindow(window('a', T0 + i * 10_000, [hotStack(1, 'app', 1)]));
		const c = store.counts();
		assert.deepEqual([c.hosts, c.frames, c.stacks, c.windows], [1, 2, 1, 5]);
		await store.close();
		store = new SqliteStore({ dataDir: dir, pruneIntervalMs: 0 });
		await store.insertWindow(window('a', T0 + 50_000, [hotStack(1, 'app', 1), coldStack(1, 'app', 1)]));
		const c2 = store.counts();
		assert.deepEqual([c2.frames, c2.stacks, c2.windows], [4, 2, 6]);
		assert.equal((await store.queryStacks({ fromMs: T0, toMs: T0 + 60_000 })).totalSamples, 7);
	} finally {
		await store.close();
		rmSync(dir, { recursive: true, force: true });
	}
});

test('retention prunes old windows and the frames only they used', async () => {
	const dir = tempDir();
	const day = 86_400_000;
	const store = new SqliteStore({ dataDir: dir, pruneIntervalMs: 0, retentionMs: day });
	try {
		await store.insertWindow(window('a', T0, [coldStack(1, 'old', 4)]));
		await store.insertWindow(window('a', T0 + day, [hotStack(2, 'new', 6)]));
		const none = await store.prune(T0 + day);
		assert.equal(none.windows, 0);
		// Stacks outlive their windows by an hour (last_ms is only rewritten hourly), then go.
		const r = await store.prune(T0 + day + 2 * 3_600_000);
		assert.deepEqual(r, { windows: 1, stacks: 1, frames: 2 });
		const c = store.counts();
		assert.deepEqual([c.windows, c.stacks, c.frames], [1, 1, 2]);
		const agg = await store.queryStacks({ fromMs: 0, toMs: T0 * 2 });
		assert.equal(agg.totalSamples, 6);
		assert.equal(await store.findProcess(1), null);
		// Ids cached before the prune must not be reused for deleted rows.
		await store.insertWindow(window('a', T0 + day + 10_000, [coldStack(1, 'old', 1)]));
		const again = await store.queryStacks({ fromMs: T0 + day + 10_000, toMs: T0 * 2 });
		assert.equal(names(again, again.stacks[0]!.frameIds), 'main;cold;do_syscall_64');
	} finally {
		await store.close();
		rmSync(dir, { recursive: true, force: true });
	}
});

test('a version 1 database with per-row samples is migrated and still answers', async () => {
	const dir = tempDir();
	try {
		const db = new Database(join(dir, 'firesight.db'));
		migrate(db, migrations.slice(0, 1));
		db.exec(`
			INSERT INTO hosts (id, name) VALUES (1, 'old');
			INSERT INTO frames (id, host_id, kind, module, name) VALUES (1, 1, 0, 'app', 'main'), (2, 1, 1, '[kernel.kallsyms]', 'sys');
			INSERT INTO stacks (id, host_id, frame_ids) VALUES (1, 1, X'0100000002000000'), (2, 1, X'01000000');
			INSERT INTO windows (id, host_id, start_ms, duration_ms, frequency_hz) VALUES (1, 1, ${T0}, 10000, 99);
			INSERT INTO samples (window_id, pid, comm, stack_id, count) VALUES (1, 5, 'app', 1, 30), (1, 6, 'sh', 2, 4);
		`);
		db.close();
		const store = new SqliteStore({ dataDir: dir, pruneIntervalMs: 0 });
		assert.equal(store.schemaVersion, migrations.length);
		const agg = await store.queryStacks({ fromMs: T0, toMs: T0 + 10_000, comm: 'app' });
		assert.deepEqual(agg.stacks.map((s) => [s.pid, names(agg, s.frameIds), s.count]), [[5, 'main;sys', 30]]);
		assert.equal(agg.frames[1]?.kind, 'kernel');
		await store.close();
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test('migrations run once, in order, and refuse a newer database', () => {
	const dir = tempDir();
	const path = join(dir, 'm.db');
	try {
		const db = new Database(path);
		const ran: number[] = [];
		const list = [
			...migrations,
			{ version: migrations.length + 1, name: 'test', up: () => void ran.push(migrations.length + 1) },
		];
		assert.equal(migrate(db, list), migrations.length + 1);
		assert.equal(migrate(db, list), migrations.length + 1);
		assert.deepEqual(ran, [migrations.length + 1]);
		assert.throws(() => migrate(db, migrations), /newer than this Firesight/);
		db.close();
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test('$FIRESIGHT_DATA picks the directory', async () => {
	const dir = tempDir();
	const saved = process.env.FIRESIGHT_DATA;
	process.env.FIRESIGHT_DATA = dir;
	try {
		const store = new SqliteStore({ pruneIntervalMs: 0 });
		assert.equal(store.path, join(dir, 'firesight.db'));
		await store.close();
	} finally {
		if (saved === undefined) delete process.env.FIRESIGHT_DATA;
		else process.env.FIRESIGHT_DATA = saved;
		rmSync(dir, { recursive: true, force: true });
	}
});

test('a query answers the same from the caches filled while storing as from the database after reopening', async () => {
	const dir = tempDir();
	let store = new SqliteStore({ dataDir: dir, pruneIntervalMs: 0 });
	try {
		await store.insertWindow(window('a', T0, [hotStack(1, 'app', 5), coldStack(1, 'app', 2), hotStack(2, 'other', 3)]));
		await store.insertWindow(window('b', T0, [coldStack(1, 'app', 4), hotStack(1, 'app', 1)]));
		const query = { fromMs: T0, toMs: T0 + 10_000 };
		const warm = await store.queryStacks(query);
		await store.close();
		store = new SqliteStore({ dataDir: dir, pruneIntervalMs: 0 });
		const cold = await store.queryStacks(query);
		const named = (agg: typeof warm) =>
			agg.stacks.map((s) => `${s.host} ${s.pid} ${s.comm} ${names(agg, s.frameIds)} ${s.count}`).sort();
		assert.deepEqual(named(cold), named(warm));
		assert.equal(warm.stacks.length, 5);
		assert.equal(cold.totalSamples, 15);
		// Equal frames of both hosts are one entry in either answer.
		assert.equal(cold.frames.length, warm.frames.length);
		assert.equal(new Set(cold.frames.map((f) => `${f.kind} ${f.module} ${f.name}`)).size, cold.frames.length);
	} finally {
		await store.close();
		rmSync(dir, { recursive: true, force: true });
	}
});
