import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import type { ProfileWindow } from '@firesight/protocol';
import { clickhouseRequired, clickhouseStatement, startClickhouse, type ClickhouseServer } from '@firesight/testing/clickhouse-server';
import { profileWindow, userFrames } from '@firesight/testing/profile-windows';
import { storageConformance } from '../conformance/index.ts';
import { openStorage } from '../storage.ts';
import type { StorageOptions } from '../storage-options.ts';

// One throw-away server for this file, started here (installed first when missing) and stopped
// after its tests, so `npm test` needs nothing running beforehand and leaves nothing behind.
const started = await startClickhouse();

if ('reason' in started) {
	test('clickhouse storage', (t) => {
		if (clickhouseRequired()) throw new Error(`FIRESIGHT_REQUIRE_BPF=1 or CI is set, but this test ${started.reason}`);
		t.skip(`${started.reason} (set FIRESIGHT_REQUIRE_BPF=1 to fail instead)`);
	});
} else {
	const server = started.server;
	after(() => server.stop());
	clickhouseTests(server);
}

function clickhouseTests(server: ClickhouseServer): void {
	/** A URL naming a fresh database on the test server; each storage under test gets its own. */
	const freshUrl = () => server.url.replace(/\/[^/]*$/, `/firesight_test_${randomBytes(6).toString('hex')}`);
	const databaseOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);
	const open = (url: string, options?: StorageOptions) => openStorage({ backend: 'clickhouse', url, ...options });
	const count = async (sql: string) => Number((await clickhouseStatement(server, sql)).trim());

	storageConformance({
		name: 'clickhouse',
		async open(options) {
			const url = freshUrl();
			return {
				storage: await open(url, options),
				reopen: (again) => open(url, again),
				dispose: async () => void (await clickhouseStatement(server, `DROP DATABASE IF EXISTS ${databaseOf(url)}`)),
			};
		},
	});

	const T0 = 1_700_000_000_000;
	const DAY = 86_400_000;
	const frames = userFrames('app', 'main', 'hot', 'cold');
	const window = (host: string, startMs: number, samples: ProfileWindow['samples']) => profileWindow(host, startMs, frames, samples);
	const hot = (pid: number) => ({ pid, comm: 'app', stack: [0, 1], weight: 1 });
	const cold = (pid: number) => ({ pid, comm: 'app', stack: [0, 2], weight: 1 });

	async function withDatabase(fn: (url: string, db: string) => Promise<void>): Promise<void> {
		const url = freshUrl();
		try {
			await fn(url, databaseOf(url));
		} finally {
			await clickhouseStatement(server, `DROP DATABASE IF EXISTS ${databaseOf(url)}`);
		}
	}

	// A database written by schema version 1 has no message id columns: opening it adds them, its
	// windows stay readable, and an insert with an id then marks the ledger by itself.
	test('clickhouse: a version 1 database gains the message id columns on open', () =>
		withDatabase(async (url, db) => {
			let storage = await open(url, { pruneIntervalMs: 0 });
			await storage.profiles.insertWindow(window('a', T0, [hot(1)]));
			await storage.close();
			for (const table of ['profile_samples', 'connection_retransmits', 'request_endpoints']) {
				await clickhouseStatement(server, `ALTER TABLE ${db}.${table} DROP COLUMN message_boot, DROP COLUMN message_seq`);
			}
			await clickhouseStatement(server, `INSERT INTO ${db}.meta (key, value, at) VALUES ('schema', 1, ${Date.now() * 1000 + 10_000_000})`);
			storage = await open(url, { pruneIntervalMs: 0 });
			try {
				const columns = await clickhouseStatement(
					server,
					`SELECT count() FROM system.columns WHERE database = '${db}' AND name IN ('message_boot', 'message_seq') FORMAT TabSeparated`,
				);
				assert.equal(columns.trim(), '6');
				assert.equal((await storage.profiles.query({ fromMs: T0, toMs: T0 + DAY })).windows, 1);
				await storage.profiles.insertWindow(window('a', T0 + 10_000, [hot(1)]), { boot: 'b', seq: 4 });
				assert.equal(await storage.ingested.highWater('a', 'b'), 4);
			} finally {
				await storage.close();
			}
		}));

	test('clickhouse: stacks and frames are stored once per day through the dictionary, not per window or host', () =>
		withDatabase(async (url, db) => {
			let storage = await open(url, { pruneIntervalMs: 0 });
			try {
				for (let i = 0; i < 5; i++) {
					await storage.profiles.insertWindow(window('a', T0 + i * 10_000, [hot(1)]));
					await storage.profiles.insertWindow(window('b', T0 + i * 10_000, [hot(2)]));
				}
				assert.equal(await count(`SELECT count() FROM ${db}.profile_stacks`), 1);
				assert.equal(await count(`SELECT count() FROM ${db}.profile_frames`), 2);
				assert.equal(await count(`SELECT count() FROM ${db}.profile_samples WHERE stack != 0`), 10);
				// A new stack adds itself and its new frame only; another day has its own entries.
				await storage.profiles.insertWindow(window('a', T0 + 50_000, [hot(1), cold(1)]));
				assert.equal(await count(`SELECT count() FROM ${db}.profile_stacks`), 2);
				assert.equal(await count(`SELECT count() FROM ${db}.profile_frames`), 3);
				await storage.profiles.insertWindow(window('a', T0 + DAY, [hot(1)]));
				assert.equal(await count(`SELECT count() FROM ${db}.profile_stacks`), 3);
				await storage.close();
				// After a restart the memory of what was written is gone: at most one more copy a day,
				// which the table's merges fold away and queries never see twice.
				storage = await open(url, { pruneIntervalMs: 0 });
				await storage.profiles.insertWindow(window('a', T0 + DAY + 10_000, [hot(1)]));
				await storage.profiles.insertWindow(window('a', T0 + DAY + 20_000, [hot(1)]));
				assert.ok((await count(`SELECT count() FROM ${db}.profile_stacks`)) <= 4);
				const { profile } = await storage.profiles.query({ fromMs: T0 + DAY, toMs: T0 + DAY + 30_000 });
				assert.deepEqual(
					profile.samples.map((s) => [s.stack.map((i) => profile.frames[i]!.name).join(';'), s.weight]),
					[['main;hot', 3]],
				);
			} finally {
				await storage.close();
			}
		}));

	test('clickhouse: concurrent inserts are written in a few batches, each resolving once stored', () =>
		withDatabase(async (url, db) => {
			const storage = await open(url, { pruneIntervalMs: 0 });
			try {
				const hosts = Array.from({ length: 50 }, (_, i) => `host-${i}`);
				await Promise.all(hosts.map((h) => storage.profiles.insertWindow(window(h, T0, [hot(1), cold(2)]))));
				// Every window is visible once its promise resolved.
				const merged = await storage.profiles.query({ fromMs: T0, toMs: T0 + 10_000 });
				assert.equal(merged.windows, 50);
				assert.equal(
					merged.profile.samples.reduce((n, s) => n + s.weight, 0),
					100,
				);
				// Each INSERT takes a block number of its partition (merges keep the highest): 50
				// windows in a few INSERTs, not 50.
				const inserts = await count(
					`SELECT max(max_block_number) FROM system.parts WHERE database = '${db}' AND table = 'profile_samples'`,
				);
				assert.ok(inserts <= 5, `${inserts} INSERTs for 50 concurrent windows`);
			} finally {
				await storage.close();
			}
		}));

	test('clickhouse: retention drops whole day partitions and keeps the days it must', () =>
		withDatabase(async (url, db) => {
			const storage = await open(url, { pruneIntervalMs: 0, retentionMs: DAY });
			const partitions = async (table: string) =>
				(
					await clickhouseStatement(
						server,
						`SELECT DISTINCT partition FROM system.parts WHERE database = '${db}' AND table = '${table}' AND active ORDER BY partition`,
					)
				)
					.trim()
					.split('\n')
					.filter(Boolean);
			try {
				const day0 = Math.floor(T0 / DAY) * DAY;
				await storage.profiles.insertWindow(window('a', day0 + 1000, [hot(1)]));
				await storage.profiles.insertWindow(window('a', day0 + 3 * DAY, [cold(1)]));
				await storage.connections.insertWindow({ host: 'a', startMs: day0 + 1000, durationMs: 10_000, connections: [] });
				await storage.requests.insertWindow({ host: 'a', startMs: day0 + 1000, durationMs: 10_000, processes: [], endpoints: [] });
				assert.deepEqual(await partitions('profile_samples'), ['20231114', '20231117']);
				await storage.prune(day0 + 3 * DAY + 3_600_000);
				for (const table of ['profile_samples', 'profile_stacks', 'profile_frames', 'profile_windows', 'profile_processes']) {
					assert.deepEqual(await partitions(table), ['20231117'], table);
				}
				// The cutoff is remembered: a reopened store hides the same.
				await storage.close();
				const again = await open(url, { pruneIntervalMs: 0, retentionMs: DAY });
				assert.deepEqual(
					(await again.profiles.listHosts()).map((h) => h.windows),
					[1],
				);
				await again.close();
			} finally {
				await storage.close();
			}
		}));

	test('clickhouse: names with quotes, backslashes, tabs and newlines round-trip and filter exactly', () =>
		withDatabase(async (url) => {
			const storage = await open(url, { pruneIntervalMs: 0 });
			try {
				const host = "a\tb\\c'd\ne\u0000f";
				const comm = "x'\\\t\r";
				await storage.profiles.insertWindow({
					...window(host, T0, [{ ...hot(1), comm }]),
					frames: [
						{ name: "f'\\\n\t", module: 'm\\', kind: 'jit' },
						{ name: 'g', module: '', kind: 'user' },
					],
				});
				await storage.profiles.insertWindow(window('plain', T0, [hot(1)]));
				assert.deepEqual((await storage.profiles.listHosts()).map((h) => h.host).sort(), [host, 'plain'].sort());
				const { profile } = await storage.profiles.query({ fromMs: T0, toMs: T0 + 10_000, host, comm });
				assert.deepEqual(
					profile.samples.map((s) => [s.comm, s.weight]),
					[[comm, 1]],
				);
				assert.deepEqual(profile.frames[0], { name: "f'\\\n\t", module: 'm\\', kind: 'jit' });
				assert.equal((await storage.profiles.findProcess(1, host))?.comm, comm);
				assert.equal((await storage.profiles.query({ fromMs: T0, toMs: T0 + 10_000, host: "a\tb\\c'd" })).windows, 0);
			} finally {
				await storage.close();
			}
		}));

	test('clickhouse: an unreachable server or a bad URL is one line', async () => {
		await assert.rejects(
			open('clickhouse://127.0.0.1:1/firesight'),
			/^Error: cannot use ClickHouse at 127\.0\.0\.1:1\/firesight: ECONNREFUSED$/,
		);
		await assert.rejects(open('clickhouse://127.0.0.1:1/no-dashes'), /database name 'no-dashes'/);
	});
}
