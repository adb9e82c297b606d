import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { openStorage } from '../storage.ts';
import { migrate, migrations } from './migrations.ts';

const T0 = 1_700_000_000_000;

test('sqlite: a version 7 database gets request labels from migration 8; its windows answer unlabelled and new ones keep labels', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-store-labels-'));
	try {
		const db = new Database(join(dir, 'firesight.db'));
		migrate(
			db,
			migrations.filter((m) => m.version <= 7),
		);
		db.exec(`
			INSERT INTO hosts (id, name) VALUES (1, 'old');
			INSERT INTO frames (id, host_id, kind, module, name) VALUES (1, 1, 0, 'srv', 'main');
			INSERT INTO stacks (id, host_id, frame_ids, last_ms) VALUES (1, 1, X'01000000', ${T0 + 10_000});
			INSERT INTO comms (id, host_id, comm) VALUES (1, 1, 'srv');
			INSERT INTO windows (id, host_id, start_ms, duration_ms, frequency_hz) VALUES (1, 1, ${T0}, 10000, 99);
			-- (stack 1, pid 5, comm 1, count 30) as little-endian uint32s
			INSERT INTO window_samples (window_id, data) VALUES (1, X'0100000005000000010000001E000000');
		`);
		db.close();
		const storage = await openStorage({ backend: 'sqlite', dataDir: dir, pruneIntervalMs: 0 });
		try {
			const old = await storage.profiles.query({ fromMs: T0, toMs: T0 + 10_000 });
			assert.deepEqual(old.profile.samples, [{ pid: 5, comm: 'srv', stack: [0], weight: 30 }]);
			assert.equal((await storage.profiles.query({ fromMs: T0, toMs: T0 + 10_000, endpoint: 'GET /' })).profile.samples.length, 0);
			await storage.profiles.insertWindow({
				host: 'old',
				startMs: T0 + 10_000,
				durationMs: 10_000,
				frequencyHz: 99,
				frames: [{ name: 'main', module: 'srv', kind: 'user' }],
				samples: [{ pid: 5, comm: 'srv', stack: [0], weight: 2, endpoint: 'GET /', ambiguous: true }],
			});
			const labelled = await storage.profiles.query({ fromMs: T0, toMs: T0 + 20_000, endpoint: 'GET /' });
			assert.deepEqual(labelled.profile.samples, [{ pid: 5, comm: 'srv', endpoint: 'GET /', ambiguous: true, stack: [0], weight: 2 }]);
		} finally {
			await storage.close();
		}
		const file = new Database(join(dir, 'firesight.db'), { readonly: true });
		assert.ok((file.pragma('user_version', { simple: true }) as number) >= 8);
		file.close();
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
