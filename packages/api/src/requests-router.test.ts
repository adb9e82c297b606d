import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStorage } from '@firesight/store';
import { endpointStats, latencyHistogram, requestRecord } from '@firesight/testing/request-records';
import { createCaller } from './router.ts';
import { NO_LIVE } from './test-context.ts';

test('requests: list, endpoints and histogram through the router; errors from the closed set', async () => {
	const storage = await openStorage({ backend: 'sqlite', path: ':memory:', pruneIntervalMs: 0 });
	const base = { pid: 7, latencyMs: 2, reqBytes: 1, respBytes: 2 };
	await storage.requests.insertBatch({
		host: 'h',
		ts: 5000,
		omitted: 0,
		requests: [requestRecord({ ...base, ts: 1000, path: '/a?x=1' }), requestRecord({ ...base, ts: 3000, path: '/a', pid: 8 })],
	});
	await storage.requests.insertWindow({
		host: 'h',
		startMs: 0,
		durationMs: 2000,
		processes: [],
		endpoints: [
			endpointStats({
				pid: 7,
				endpoint: '/a',
				count: 4,
				errors: 1,
				reqBytes: 4,
				respBytes: 8,
				sumLatencyMs: 12,
				maxLatencyMs: 3.5,
				p50Ms: 3,
				p90Ms: 3,
				p99Ms: 3.5,
				histogram: latencyHistogram({ 11: 4 }),
			}),
		],
	});
	const caller = createCaller({ storage, live: NO_LIVE });

	assert.deepEqual(
		(await caller.requests.list({ sinceMs: 0, limit: 1 })).map((r) => r.ts),
		[1000],
	);
	assert.deepEqual(
		(await caller.requests.list({ sinceMs: 0, pid: 7 })).map((r) => r.path),
		['/a?x=1'],
	);
	const eps = await caller.requests.endpoints({ fromMs: 0, toMs: 10_000 });
	assert.equal(eps.endpoints[0]!.ratePerSec, 2);
	assert.equal(eps.endpoints[0]!.errorRate, 0.25);
	assert.ok(eps.endpoints[0]!.p99Ms > 2.048 && eps.endpoints[0]!.p99Ms <= 3.5);
	const h = await caller.requests.histogram({ fromMs: 0, toMs: 10_000, endpoint: '/a' });
	assert.deepEqual(
		h.buckets.map((b) => [b.index, b.count]),
		[[11, 4]],
	);

	await assert.rejects(caller.requests.endpoints({ fromMs: 10, toMs: 5 }), /fromMs must be before toMs/);
	await assert.rejects(caller.requests.list({ sinceMs: 0, limit: 0 }), (err: { code?: string }) => err.code === 'BAD_REQUEST');
	await storage.close();
	await assert.rejects(caller.requests.list({ sinceMs: 0 }), (err: { firesight?: string }) => err.firesight === 'UNAVAILABLE');
});
