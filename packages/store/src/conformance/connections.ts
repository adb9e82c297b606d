import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retransmitWindow, windowConnection } from '@firesight/testing/retransmit-windows';
import { MAX_SERIES_BUCKETS } from '../connection-store.ts';
import { acrossReopen, DAY, T0, withStorage, type BackendUnderTest } from './backend.ts';

/** Connections: per-connection sums, series, filters, retention, persistence. */
export function connectionConformance(backend: BackendUnderTest): void {
	const title = (what: string) => `${backend.name} connections: ${what}`;

	test(title('sum over windows per connection; state from the newest; filters by host and pid; series in buckets'), () =>
		withStorage(backend, {}, async ({ storage: { connections: store } }) => {
			await store.insertWindow(
				retransmitWindow('a', 10_000, [
					windowConnection({ retransmits: 3, firstRetransmitAt: 10_500, lastRetransmitAt: 11_000 }),
					windowConnection({ cookie: '2', pid: 200, comm: 'wget', sport: 40001, retransmits: 1 }),
				]),
			);
			await store.insertWindow(
				retransmitWindow('a', 20_000, [
					windowConnection({ retransmits: 4, state: 'CLOSE', firstRetransmitAt: 20_100, lastRetransmitAt: 25_000 }),
				]),
			);
			await store.insertWindow(retransmitWindow('b', 20_000, [windowConnection({ cookie: '9', retransmits: 2 })]));

			const all = await store.query({ fromMs: 0, toMs: 100_000 });
			assert.equal(all.length, 3);
			assert.deepEqual(
				{ ...all[0]! },
				{
					host: 'a',
					cookie: '1',
					pid: 100,
					comm: 'curl',
					family: 4,
					saddr: '10.0.0.1',
					sport: 40000,
					daddr: '10.0.0.2',
					dport: 443,
					retransmits: 7,
					state: 'CLOSE',
					firstRetransmitAt: 10_500,
					lastRetransmitAt: 25_000,
				},
			);
			assert.deepEqual(
				all.map((c) => c.retransmits),
				[7, 2, 1],
				'most retransmits first',
			);
			assert.deepEqual(
				(await store.query({ fromMs: 0, toMs: 100_000, host: 'b' })).map((c) => c.retransmits),
				[2],
			);
			assert.deepEqual(
				(await store.query({ fromMs: 0, toMs: 100_000, pid: 200 })).map((c) => c.comm),
				['wget'],
			);
			// Windows are selected by their start.
			assert.deepEqual(
				(await store.query({ fromMs: 15_000, toMs: 100_000, host: 'a' })).map((c) => c.retransmits),
				[4],
			);
			assert.deepEqual(await store.query({ fromMs: 30_000, toMs: 100_000 }), []);

			const series = await store.series({ fromMs: 0, toMs: 40_000, stepMs: 10_000 });
			assert.equal(series.stepMs, 10_000);
			assert.equal(series.startMs, 0);
			assert.deepEqual(
				series.hosts.map((h) => [h.host, h.total, h.points]),
				[
					[
						'a',
						8,
						[
							{ t: 10_000, retransmits: 4 },
							{ t: 20_000, retransmits: 4 },
						],
					],
					['b', 2, [{ t: 20_000, retransmits: 2 }]],
				],
			);
			assert.deepEqual(
				series.processes.map((p) => [p.host, p.pid, p.total]),
				[
					['a', 100, 7],
					['b', 100, 2],
					['a', 200, 1],
				],
			);
			assert.equal(series.processes[2]!.comm, 'wget');
			// Windows fall in the bucket their start is in, whatever the alignment.
			await store.insertWindow(retransmitWindow('c', 25_500, [windowConnection({ cookie: '3', retransmits: 6 })]));
			const unaligned = await store.series({ fromMs: 3_000, toMs: 40_000, stepMs: 10_000, host: 'c' });
			assert.equal(unaligned.startMs, 0);
			assert.deepEqual(unaligned.hosts[0]!.points, [{ t: 20_000, retransmits: 6 }]);
			// A tiny step over a long range is widened to a bounded number of buckets.
			const wide = await store.series({ fromMs: 0, toMs: 1e9, stepMs: 1 });
			assert.ok(wide.stepMs >= 1e9 / MAX_SERIES_BUCKETS);
		}),
	);

	test(title('retention drops windows that ended before it'), () =>
		withStorage(backend, { retentionMs: DAY }, async ({ storage }) => {
			await storage.connections.insertWindow(retransmitWindow('a', T0, [windowConnection({})]));
			await storage.connections.insertWindow(retransmitWindow('a', T0 + 3 * DAY, [windowConnection({ cookie: '2' })]));
			await storage.prune(T0 + DAY);
			assert.equal((await storage.connections.query({ fromMs: 0, toMs: T0 * 2 })).length, 2);
			await storage.prune(T0 + 3 * DAY + 3_600_000);
			assert.deepEqual(
				(await storage.connections.query({ fromMs: 0, toMs: T0 * 2 })).map((c) => c.cookie),
				['2'],
			);
		}),
	);

	test(title('what was stored is there after reopening'), (t) =>
		acrossReopen(
			t,
			backend,
			(storage) => storage.connections.insertWindow(retransmitWindow('a', 1000, [windowConnection({ retransmits: 5 })])),
			async (storage) => {
				assert.equal((await storage.connections.query({ fromMs: 0, toMs: 1e6 }))[0]?.retransmits, 5);
			},
		),
	);
}
