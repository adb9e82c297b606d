import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DAY, T0, withStorage, type BackendUnderTest } from './backend.ts';

/** The ingest ledger: a high-water mark per (host, boot) that only grows, survives a restart, and ages out with retention. */
export function ingestedConformance(backend: BackendUnderTest): void {
	const title = (what: string) => `${backend.name} ingested: ${what}`;

	test(title('the mark is per host and boot and only grows'), () =>
		withStorage(backend, {}, async ({ storage: { ingested } }) => {
			assert.equal(await ingested.highWater('a', 'boot1'), -1);
			await ingested.record('a', 'boot1', 0);
			assert.equal(await ingested.highWater('a', 'boot1'), 0);
			await ingested.record('a', 'boot1', 5);
			await ingested.record('a', 'boot1', 3);
			assert.equal(await ingested.highWater('a', 'boot1'), 5);
			assert.equal(await ingested.highWater('a', 'boot2'), -1);
			assert.equal(await ingested.highWater('b', 'boot1'), -1);
			await ingested.record('b', 'boot1', 7);
			assert.equal(await ingested.highWater('a', 'boot1'), 5);
			assert.equal(await ingested.highWater('b', 'boot1'), 7);
		}),
	);

	test(title('the mark is there after reopening'), async (t) => {
		const opened = await backend.open({ pruneIntervalMs: 0 });
		if (!opened.reopen) {
			await opened.storage.close();
			await opened.dispose();
			return t.skip(`${backend.name} keeps nothing across a restart`);
		}
		let storage = opened.storage;
		try {
			await storage.ingested.record('a', 'boot1', 12);
			await storage.close();
			storage = await opened.reopen({ pruneIntervalMs: 0 });
			assert.equal(await storage.ingested.highWater('a', 'boot1'), 12);
		} finally {
			await storage.close();
			await opened.dispose();
		}
	});

	test(title('retention forgets a run not written to for longer than it keeps data, and keeps a recent one'), () =>
		withStorage(backend, { retentionMs: DAY, now: () => T0 }, async ({ storage }) => {
			await storage.ingested.record('a', 'old', 9);
			await storage.prune(T0 + 2 * DAY);
			assert.equal(await storage.ingested.highWater('a', 'old'), -1);
			await storage.ingested.record('a', 'new', 4);
			await storage.prune(T0 + DAY / 2);
			assert.equal(await storage.ingested.highWater('a', 'new'), 4);
		}),
	);
}
