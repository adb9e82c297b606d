import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EndpointRequestStats, RequestRecord, RequestWindow } from '@firesight/protocol';
import { endpointStats, latencyHistogram, requestRecord } from '@firesight/testing/request-records';
import { acrossReopen, DAY, T0, withStorage, type BackendUnderTest } from './backend.ts';

const req = (over: Partial<RequestRecord>): RequestRecord =>
	requestRecord({
		local: '127.0.0.1:443',
		remote: '127.0.0.1:5000',
		connection: '10:3:1',
		requestHeaders: [
			['authorization', '[REDACTED]'],
			['host', 'x'],
		],
		...over,
	});

const win = (startMs: number, endpoints: EndpointRequestStats[], host = 'h'): RequestWindow => ({
	host,
	startMs,
	durationMs: 10_000,
	processes: [],
	endpoints,
});

/** Requests: round trip, order, filters, limits; endpoint aggregates and histograms; retention and the cap. */
export function requestConformance(backend: BackendUnderTest): void {
	const title = (what: string) => `${backend.name} requests: ${what}`;

	test(title('requests round-trip as received, oldest first, filtered by host, pid and time, limited'), () =>
		withStorage(backend, {}, async ({ storage: { requests: store } }) => {
			await store.insertBatch({
				host: 'h',
				ts: 2000,
				omitted: 0,
				requests: [req({ ts: 1000.5 }), req({ ts: 1500, pid: 11, path: '/b', responseBody: 'ok' })],
			});
			await store.insertBatch({ host: 'g', ts: 2000, omitted: 0, requests: [req({ ts: 1200, requestBody: 'in' })] });
			await store.insertBatch({ host: 'g', ts: 2000, omitted: 0, requests: [] });
			const all = await store.list({ sinceMs: 0, limit: 10 });
			assert.deepEqual(
				all.map((r) => [r.host, r.ts]),
				[
					['h', 1000.5],
					['g', 1200],
					['h', 1500],
				],
			);
			assert.deepEqual(all[0], { host: 'h', ...req({ ts: 1000.5 }) });
			assert.equal(all[2]!.responseBody, 'ok');
			assert.equal(all[1]!.requestBody, 'in');
			assert.equal('requestBody' in all[0]!, false, 'an absent body stays absent');
			assert.deepEqual(
				(await store.list({ sinceMs: 0, limit: 10, pid: 11 })).map((r) => r.path),
				['/b'],
			);
			assert.deepEqual(
				(await store.list({ sinceMs: 1100, limit: 10, host: 'h' })).map((r) => r.ts),
				[1500],
			);
			assert.deepEqual(
				(await store.list({ sinceMs: 0, untilMs: 1300, limit: 10 })).map((r) => r.ts),
				[1000.5, 1200],
			);
			assert.deepEqual(
				(await store.list({ sinceMs: 0, limit: 2 })).map((r) => r.ts),
				[1000.5, 1200],
			);
		}),
	);

	test(title('endpoints merge windows: counts, rates, error rate and percentiles from the summed histograms'), () =>
		withStorage(backend, {}, async ({ storage: { requests: store } }) => {
			// 90 requests in [1, 2) ms (bucket 10 = 1024..2048 µs) and 10 in [32, 64) ms (bucket 15).
			await store.insertWindow(
				win(0, [
					endpointStats({
						count: 50,
						errors: 5,
						clientErrors: 1,
						sumLatencyMs: 75,
						maxLatencyMs: 1.9,
						histogram: latencyHistogram({ 10: 50 }),
					}),
				]),
			);
			await store.insertWindow(
				win(10_000, [
					endpointStats({ count: 50, errors: 5, sumLatencyMs: 400, maxLatencyMs: 60, histogram: latencyHistogram({ 10: 40, 15: 10 }) }),
					endpointStats({ method: 'POST', endpoint: '/login', count: 3, histogram: latencyHistogram({ 12: 3 }), maxLatencyMs: 5 }),
				]),
			);
			await store.insertWindow(win(0, [endpointStats({ count: 7, histogram: latencyHistogram({ 3: 7 }), maxLatencyMs: 0.01 })], 'other'));
			const r = await store.endpoints({ fromMs: 0, toMs: 100_000, host: 'h' });
			assert.equal(r.windows, 2);
			assert.equal(r.coveredMs, 20_000);
			const users = r.endpoints[0]!;
			assert.equal(users.endpoint, '/users/:id');
			assert.equal(users.count, 100);
			assert.equal(users.ratePerSec, 5);
			assert.equal(users.errorRate, 0.1);
			assert.equal(users.clientErrors, 1);
			assert.equal(users.meanMs, 4.75);
			assert.equal(users.maxMs, 60);
			assert.ok(users.p50Ms >= 1.024 && users.p50Ms < 2.048, `p50 ${users.p50Ms}`);
			assert.ok(users.p90Ms >= 1.024 && users.p90Ms <= 2.048, `p90 ${users.p90Ms}`);
			assert.ok(users.p99Ms >= 32.768 && users.p99Ms <= 60, `p99 ${users.p99Ms}`);
			assert.equal(r.endpoints[1]!.endpoint, '/login');
			// Windows are picked by their start.
			assert.equal((await store.endpoints({ fromMs: 5_000, toMs: 100_000, host: 'h' })).endpoints[0]!.count, 50);
			// Both hosts, and a pid no window has.
			assert.deepEqual(
				(await store.endpoints({ fromMs: 0, toMs: 100_000 })).endpoints.map((e) => [e.host, e.count]),
				[
					['h', 100],
					['other', 7],
					['h', 3],
				],
			);
			assert.deepEqual(await store.endpoints({ fromMs: 0, toMs: 100_000, pid: 99 }), { coveredMs: 0, windows: 0, endpoints: [] });

			const h = await store.histogram({ fromMs: 0, toMs: 100_000, host: 'h', endpoint: '/users/:id', method: 'GET' });
			assert.equal(h.count, 100);
			assert.deepEqual(
				h.buckets.map((b) => [b.index, b.count]),
				[
					[10, 90],
					[11, 0],
					[12, 0],
					[13, 0],
					[14, 0],
					[15, 10],
				],
			);
			assert.equal(h.buckets[0]!.lowMs, 1.024);
			assert.equal(h.maxMs, 60);
			assert.equal((await store.histogram({ fromMs: 0, toMs: 100_000, endpoint: '/users/:id', role: 'client' })).count, 0);
			assert.equal((await store.histogram({ fromMs: 0, toMs: 1, endpoint: '/nothing' })).buckets.length, 0);
		}),
	);

	test(title('retention drops what ended before it; requests over the cap go oldest first'), () =>
		withStorage(backend, { retentionMs: DAY, maxRequests: 2 }, async ({ storage }) => {
			const store = storage.requests;
			await store.insertWindow(win(T0, [endpointStats({ count: 1, histogram: latencyHistogram({ 1: 1 }) })]));
			await store.insertWindow(win(T0 + 3 * DAY, [endpointStats({ count: 2, histogram: latencyHistogram({ 1: 2 }) })]));
			const late = T0 + 3 * DAY;
			await store.insertBatch({
				host: 'h',
				ts: 0,
				omitted: 0,
				requests: [req({ ts: T0 }), req({ ts: late + 1 }), req({ ts: late + 2 }), req({ ts: late + 3 })],
			});
			await storage.prune(T0 + 3 * DAY + 3_600_000);
			assert.equal((await store.endpoints({ fromMs: 0, toMs: T0 * 2 })).endpoints[0]!.count, 2);
			assert.deepEqual(
				(await store.list({ sinceMs: 0, limit: 10 })).map((r) => r.ts),
				[late + 2, late + 3],
			);
		}),
	);

	test(title('what was stored is there after reopening'), (t) =>
		acrossReopen(
			t,
			backend,
			async (storage) => {
				await storage.requests.insertBatch({ host: 'h', ts: 0, omitted: 0, requests: [req({ ts: 5 })] });
				await storage.requests.insertWindow(win(0, [endpointStats({ count: 4, histogram: latencyHistogram({ 2: 4 }) })]));
			},
			async (storage) => {
				assert.deepEqual(
					(await storage.requests.list({ sinceMs: 0, limit: 5 })).map((r) => r.ts),
					[5],
				);
				assert.equal((await storage.requests.histogram({ fromMs: 0, toMs: 1e6, endpoint: '/users/:id' })).count, 4);
			},
		),
	);
}
