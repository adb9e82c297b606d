import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ProfileWindow } from '@firesight/protocol';
import { QueryAbortedError, withQueryBudget } from './query-budget.ts';
import { openStorage } from './storage.ts';

const T0 = 1_700_000_000_000;

function window(startMs: number): ProfileWindow {
	return {
		host: 'box',
		startMs,
		durationMs: 10_000,
		frequencyHz: 100,
		frames: [{ name: 'main', module: 'app', kind: 'user' }],
		samples: [{ pid: 1, comm: 'app', stack: [0], weight: 3 }],
	};
}

test('a SQLite profile query or timeline stops under a spent budget, and runs to its end under a live one', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-budget-'));
	const storage = await openStorage({ backend: 'sqlite', dataDir: dir, pruneIntervalMs: 0 });
	try {
		for (let i = 0; i < 5; i++) await storage.profiles.insertWindow(window(T0 + i * 10_000));
		const range = { fromMs: T0, toMs: T0 + 50_000 };
		const live = { signal: new AbortController().signal, deadlineMs: Number.MAX_SAFE_INTEGER };
		assert.equal((await withQueryBudget(live, () => storage.profiles.query(range))).windows, 5);
		const timeline = await withQueryBudget(live, () => storage.profiles.timeline({ ...range, bucketMs: 10_000 }));
		assert.ok(timeline.length > 0);

		// Past its deadline: a synchronous scan cannot wait for a timer to abort it, so it looks at the clock.
		const late = { signal: new AbortController().signal, deadlineMs: 0 };
		await assert.rejects(
			withQueryBudget(late, () => storage.profiles.query(range)),
			QueryAbortedError,
		);
		await assert.rejects(
			withQueryBudget(late, () => storage.profiles.timeline({ ...range, bucketMs: 10_000 })),
			QueryAbortedError,
		);
		// The client left.
		const left = new AbortController();
		left.abort();
		await assert.rejects(
			withQueryBudget({ signal: left.signal, deadlineMs: Number.MAX_SAFE_INTEGER }, () => storage.profiles.query(range)),
			QueryAbortedError,
		);
		// Outside any budget (ingest, retention) nothing changes.
		assert.equal((await storage.profiles.query(range)).windows, 5);
	} finally {
		await storage.close();
		rmSync(dir, { recursive: true, force: true });
	}
});
