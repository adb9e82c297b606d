import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { ProfileWindow } from '@firesight/protocol';
import { requestRecord } from '@firesight/testing/request-records';
import { coldStack, hotColdWindow, hotStack } from '../conformance/hot-cold.ts';
import { storageConformance } from '../conformance/index.ts';
import { openStorage } from '../storage.ts';
import { migrate, migrations } from './migrations.ts';

function tempDir(): string {
	return mkdtempSync(join(tmpdir(), 'firesight-store-'));
}

storageConformance({
	name: 'sqlite',
	async open(options) {
		const dir = tempDir();
		const at = { backend: 'sqlite' as const, dataDir: dir };
		return {
			storage: await openStorage({ ...at, ...options }),
			reopen: (again) => openStorage({ ...at, ...again }),
			dispose: async () => rmSync(dir, { recursive: true, force: true }),
		};
	},
});

storageConformance({
	name: 'sqlite in memory',
	async open(options) {
		return { storage: await openStorage({ backend: 'sqlite', path: ':memory:', ...options }), dispose: async () => {} };
	},
});

const T0 = 1_700_000_000_000;
const LATEST = Math.max(...migrations.map((m) => m.version));

const window = (startMs: number, samples: ProfileWindow['samples']): ProfileWindow => hotColdWindow('a', startMs, samples);

/** Row counts of the profile tables, read through a connection of the test's own. */
function counts(dir: string): { hosts: number; frames: number; stacks: number; windows: number } {
	const db = new Database(join(dir, 'firesight.db'), { readonly: true });
	try {
		const c = (t: string) => (db.prepare(`SELECT COUNT(*) n FROM ${t}`).get() as { n: number }).n;
		return { hosts: c('hosts'), frames: c('frames'), stacks: c('stacks'), windows: c('windows') };
	} finally {
		db.close();
	}
}

test('sqlite: frames and stacks are stored once per host, across reopening', async () => {
	const dir = tempDir();
	let storage = await openStorage({ backend: 'sqlite', dataDir: dir, pruneIntervalMs: 0 });
	try {
		for (let i = 0; i < 5; i++) await storage.profiles.insertWindow(window(T0 + i * 10_000, [hotStack(1, 'app', 1)]));
		assert.deepEqual(counts(dir), { hosts: 1, frames: 2, stacks: 1, windows: 5 });
		await storage.close();
		storage = await openStorage({ backend: 'sqlite', dataDir: dir, pruneIntervalMs: 0 });
		await storage.profiles.insertWindow(window(T0 + 50_000, [hotStack(1, 'app', 1), coldStack(1, 'app', 1)]));
		assert.deepEqual(counts(dir), { hosts: 1, frames: 4, stacks: 2, windows: 6 });
	} finally {
		await storage.close();
		rmSync(dir, { recursive: true, force: true });
	}
});

test('sqlite: retention deletes the stacks and frames only old windows used, an hour after them', async () => {
	const dir = tempDir();
	const day = 86_400_000;
	const storage = await openStorage({ backend: 'sqlite', dataDir: dir, pruneIntervalMs: 0, retentionMs: day });
	try {
		await storage.profiles.insertWindow(window(T0, [coldStack(1, 'old', 4)]));
		await storage.profiles.insertWindow(window(T0 + day, [hotStack(2, 'new', 6)]));
		await storage.prune(T0 + day);
		assert.deepEqual(counts(dir), { hosts: 1, frames: 4, stacks: 2, windows: 2 });
		// Stacks outlive their windows by an hour (last_ms is only rewritten hourly), then go.
		await storage.prune(T0 + day + 2 * 3_600_000);
		assert.deepEqual(counts(dir), { hosts: 1, frames: 2, stacks: 1, windows: 1 });
		// Ids cached before the prune are not reused for deleted rows.
		await storage.profiles.insertWindow(window(T0 + day + 10_000, [coldStack(1, 'old', 1)]));
		const again = await storage.profiles.query({ fromMs: T0 + day + 10_000, toMs: T0 * 2 });
		assert.deepEqual(
			again.profile.samples[0]!.stack.map((i) => again.profile.frames[i]!.name),
			['main', 'cold', 'do_syscall_64'],
		);
	} finally {
		await storage.close();
		rmSync(dir, { recursive: true, force: true });
	}
});

test('sqlite: every signal shares one file under the data directory, $FIRESIGHT_DATA by default', async () => {
	const dir = tempDir();
	const saved = process.env.FIRESIGHT_DATA;
	process.env.FIRESIGHT_DATA = dir;
	try {
		const storage = await openStorage({ backend: 'sqlite', pruneIntervalMs: 0 });
		await storage.profiles.insertWindow(window(T0, [hotStack(1, 'app', 1)]));
		await storage.connections.insertWindow({ host: 'a', startMs: T0, durationMs: 10_000, connections: [] });
		await storage.close();
		assert.ok(existsSync(join(dir, 'firesight.db')));
		assert.equal(counts(dir).windows, 1);
	} finally {
		if (saved === undefined) delete process.env.FIRESIGHT_DATA;
		else process.env.FIRESIGHT_DATA = saved;
		rmSync(dir, { recursive: true, force: true });
	}
});

test('sqlite: a version 1 database with per-row samples is migrated and still answers', async () => {
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
		const storage = await openStorage({ backend: 'sqlite', dataDir: dir, pruneIntervalMs: 0 });
		const { profile } = await storage.profiles.query({ fromMs: T0, toMs: T0 + 10_000, comm: 'app' });
		assert.deepEqual(
			profile.samples.map((s) => [s.pid, s.stack.map((i) => profile.frames[i]!.name).join(';'), s.weight]),
			[[5, 'main;sys', 30]],
		);
		assert.equal(profile.frames[1]?.kind, 'kernel');
		await storage.close();
		const file = new Database(join(dir, 'firesight.db'), { readonly: true });
		assert.equal(file.pragma('user_version', { simple: true }), LATEST);
		file.close();
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test('sqlite: migrations run once, by version whatever their order in the list, and refuse a newer database', async () => {
	const dir = tempDir();
	try {
		const db = new Database(join(dir, 'm.db'));
		const ran: number[] = [];
		const list = [...migrations, { version: LATEST + 1, name: 'test', up: () => void ran.push(LATEST + 1) }];
		assert.equal(migrate(db, list), LATEST + 1);
		assert.equal(migrate(db, list), LATEST + 1);
		assert.deepEqual(ran, [LATEST + 1]);
		assert.throws(() => migrate(db, migrations), /newer than this Firesight/);
		db.close();
		// A newer database is refused by openStorage too, in one line.
		await assert.rejects(openStorage({ backend: 'sqlite', path: join(dir, 'm.db') }), /newer than this Firesight/);

		const memory = new Database(':memory:');
		assert.equal(migrate(memory, [...migrations].reverse()), LATEST);
		assert.ok(memory.prepare("SELECT 1 FROM sqlite_master WHERE name = 'connection_retransmits'").get());
		memory.close();
		assert.deepEqual(
			[...migrations].map((m) => m.version).sort((a, b) => a - b),
			migrations.map((m) => m.version),
			'the list stays sorted by version',
		);
		assert.equal(new Set(migrations.map((m) => m.version)).size, migrations.length, 'versions are unique');
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test('sqlite: a database marked past versions 3 and 4 without their tables gets them from migration 5', async () => {
	const req = requestRecord();
	const db = new Database(':memory:');
	assert.equal(
		migrate(
			db,
			migrations.filter((m) => m.version <= 3),
		),
		3,
	);
	assert.equal(migrate(db), LATEST);
	const tables = db
		.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('http_requests', 'request_endpoints') ORDER BY name")
		.all();
	assert.deepEqual(tables, [{ name: 'http_requests' }, { name: 'request_endpoints' }]);
	db.close();

	// Builds that had one of migrations 3 and 4 but not the other marked files past both.
	for (const skipped of [3, 4]) {
		const dir = tempDir();
		try {
			const file = new Database(join(dir, 'firesight.db'));
			migrate(
				file,
				migrations.filter((m) => m.version < 5 && m.version !== skipped),
			);
			file.pragma('user_version = 4');
			file.close();
			const storage = await openStorage({ backend: 'sqlite', dataDir: dir, pruneIntervalMs: 0 });
			await storage.requests.insertBatch({ host: 'h', ts: 0, omitted: 0, requests: [req] });
			assert.equal((await storage.requests.list({ sinceMs: 0, limit: 5 })).length, 1);
			await storage.connections.insertWindow({ host: 'h', startMs: 0, durationMs: 1000, connections: [] });
			assert.deepEqual(await storage.connections.query({ fromMs: 0, toMs: 1e6 }), []);
			await storage.close();
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	}
});

// The other half of atomicity: a failing ledger write takes the rows of its insert with it.
// A trigger stands in for the hub dying (or the disk failing) between the two statements.
test('sqlite: an insert whose ledger row cannot be written keeps none of its rows', async () => {
	const dir = tempDir();
	try {
		let storage = await openStorage({ backend: 'sqlite', dataDir: dir, pruneIntervalMs: 0 });
		await storage.profiles.insertWindow(window(T0, [hotStack(1, 'app', 1)]), { boot: 'b', seq: 0 });
		await storage.close();
		const db = new Database(join(dir, 'firesight.db'));
		db.exec(`CREATE TRIGGER crash BEFORE UPDATE ON ingested_messages BEGIN SELECT RAISE(ABORT, 'crash'); END`);
		db.close();
		storage = await openStorage({ backend: 'sqlite', dataDir: dir, pruneIntervalMs: 0 });
		try {
			await assert.rejects(storage.profiles.insertWindow(window(T0 + 10_000, [hotStack(1, 'app', 1)]), { boot: 'b', seq: 1 }), /crash/);
			await assert.rejects(
				storage.connections.insertWindow({ host: 'a', startMs: T0, durationMs: 10_000, connections: [] }, { boot: 'b', seq: 1 }),
				/crash/,
			);
			assert.equal((await storage.profiles.query({ fromMs: 0, toMs: 2 ** 50 })).windows, 1);
			assert.equal(await storage.ingested.highWater('a', 'b'), 0);
		} finally {
			await storage.close();
		}
		assert.equal(counts(dir).windows, 1);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
