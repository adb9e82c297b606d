import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage } from '@firesight/store';
import { bucketFor, createCaller, type LiveView } from './index.ts';

const T0 = 1_700_000_000_000;
const live: LiveView = { hosts: () => [], processes: () => [] };

test('buckets are the shortest readable step that fits the points', () => {
	assert.equal(bucketFor(15 * 60_000, 200), 10_000);
	assert.equal(bucketFor(60 * 60_000, 200), 30_000);
	assert.equal(bucketFor(24 * 3_600_000, 200), 600_000);
	assert.equal(bucketFor(7 * 86_400_000, 200), 3_600_000);
});

test('profile.timeline sums samples per bucket over the selected hosts and filters; flame groups by process on request', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-api-'));
	const storage = await openStorage({ backend: 'sqlite', dataDir: dir, pruneIntervalMs: 0 });
	try {
		const frames = [{ name: 'main', module: 'app', kind: 'user' as const }];
		for (const [host, startMs, pid, weight] of [
			['h1', T0, 7, 3],
			['h1', T0 + 20_000, 8, 4],
			['h2', T0 + 20_000, 7, 5],
		] as const) {
			await storage.profiles.insertWindow({
				host,
				startMs,
				durationMs: 10_000,
				frequencyHz: 100,
				frames,
				samples: [{ pid, comm: 'app', stack: [0], weight }],
			});
		}
		const api = createCaller({ storage, live });
		const all = await api.profile.timeline({ fromMs: T0, toMs: T0 + 30_000 });
		assert.deepEqual([all.bucketMs, all.samples], [10_000, [3, 0, 9]]);
		assert.deepEqual((await api.profile.timeline({ fromMs: T0, toMs: T0 + 30_000, host: ['h1', 'h2'], pid: 7 })).samples, [3, 0, 5]);
		assert.deepEqual((await api.profile.timeline({ fromMs: T0, toMs: T0 + 30_000, host: 'h1' })).samples, [3, 0, 4]);

		const grouped = await api.profile.flame({ fromMs: T0, toMs: T0 + 30_000, groupByProcess: true, minFraction: 0 });
		assert.deepEqual(
			grouped.tree.children[0]?.children.map((c) => [c.name, c.value]),
			[
				['app (7)', 8],
				['app (8)', 4],
			],
		);
		const plain = await api.profile.flame({ fromMs: T0, toMs: T0 + 30_000, minFraction: 0 });
		assert.deepEqual(
			plain.tree.children[0]?.children.map((c) => c.name),
			['main'],
		);
	} finally {
		await storage.close();
		rmSync(dir, { recursive: true, force: true });
	}
});
