import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProfileWindow, RequestWindow, RetransmitWindow } from '@firesight/protocol';
import { profileWindow as buildProfileWindow, userFrames } from '@firesight/testing/profile-windows';
import { endpointStats, latencyHistogram } from '@firesight/testing/request-records';
import { retransmitWindow as buildRetransmitWindow, windowConnection } from '@firesight/testing/retransmit-windows';
import type { Storage } from '../storage.ts';
import { acrossReopen, DAY, T0, withStorage, type BackendUnderTest } from './backend.ts';

const profileWindow = (host: string, startMs: number, frames = 1): ProfileWindow =>
	buildProfileWindow(host, startMs, userFrames('app', 'work'), [{ pid: 1, comm: 'app', stack: [frames - 1], weight: 5 }], {
		frequencyHz: 99,
	});

const retransmitWindow = (host: string, startMs: number): RetransmitWindow =>
	buildRetransmitWindow(host, startMs, [windowConnection({ pid: 1, comm: 'app', retransmits: 2 })]);

const requestWindow = (host: string, startMs: number): RequestWindow => ({
	host,
	startMs,
	durationMs: 10_000,
	processes: [],
	endpoints: [
		endpointStats({
			pid: 1,
			comm: 'app',
			endpoint: '/a',
			count: 1,
			reqBytes: 1,
			respBytes: 1,
			sumLatencyMs: 1,
			maxLatencyMs: 1,
			p50Ms: 1,
			p90Ms: 1,
			p99Ms: 1,
			histogram: latencyHistogram({ 0: 1 }),
		}),
	],
});

/** Stores messages 0..2 of run 'a'/'boot1' with their ids, one per stored signal, and never calls `record`. */
async function insertWithIds(storage: Storage): Promise<void> {
	await storage.profiles.insertWindow(profileWindow('a', T0), { boot: 'boot1', seq: 0 });
	assert.equal(await storage.ingested.highWater('a', 'boot1'), 0);
	await storage.connections.insertWindow(retransmitWindow('a', T0), { boot: 'boot1', seq: 1 });
	assert.equal(await storage.ingested.highWater('a', 'boot1'), 1);
	await storage.requests.insertWindow(requestWindow('a', T0), { boot: 'boot1', seq: 2 });
	assert.equal(await storage.ingested.highWater('a', 'boot1'), 2);
}

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

	// The hub inserts a message with its id, then records it, then acknowledges. A hub killed after
	// the insert never records: the store must know the id from the insert alone, or the
	// collector's replay of the unacknowledged message is stored twice.
	test(title('an insert with a message id moves the mark by itself (a crash before the record is no double count)'), () =>
		withStorage(backend, {}, async ({ storage }) => {
			await insertWithIds(storage);
			assert.equal(await storage.ingested.highWater('b', 'boot1'), -1);
			assert.equal(await storage.ingested.highWater('a', 'boot2'), -1);
			// An insert without an id (a message from an older collector) leaves the mark alone.
			await storage.profiles.insertWindow(profileWindow('a', T0 + 10_000));
			assert.equal(await storage.ingested.highWater('a', 'boot1'), 2);
		}),
	);

	test(title('an insert with a message id is marked after a restart that came before any record'), (t) =>
		acrossReopen(t, backend, insertWithIds, async (storage) => {
			assert.equal(await storage.ingested.highWater('a', 'boot1'), 2);
		}),
	);

	test(title('a refused insert leaves the mark where it was'), () =>
		withStorage(backend, {}, async ({ storage }) => {
			await storage.profiles.insertWindow(profileWindow('a', T0), { boot: 'boot1', seq: 0 });
			// A sample naming frame 1 of a one-frame table: the insert is refused whole.
			await assert.rejects(storage.profiles.insertWindow(profileWindow('a', T0 + 10_000, 2), { boot: 'boot1', seq: 1 }));
			assert.equal(await storage.ingested.highWater('a', 'boot1'), 0);
			assert.equal((await storage.profiles.query({ fromMs: T0, toMs: T0 + DAY })).windows, 1);
		}),
	);

	test(title('the mark is there after reopening'), (t) =>
		acrossReopen(
			t,
			backend,
			(storage) => storage.ingested.record('a', 'boot1', 12),
			async (storage) => {
				assert.equal(await storage.ingested.highWater('a', 'boot1'), 12);
			},
		),
	);

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
