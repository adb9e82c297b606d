import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestRecord } from '@firesight/protocol';
import { latencyBucket, quantile, RequestAggregator } from './request-aggregates.ts';

function req(over: Partial<RequestRecord>): RequestRecord {
	return {
		ts: 0,
		pid: 1,
		comm: 'svc',
		role: 'server',
		method: 'GET',
		path: '/',
		endpoint: '/',
		status: 200,
		latencyMs: 1,
		reqBytes: 10,
		respBytes: 20,
		local: null,
		remote: null,
		connection: null,
		httpVersion: '1.1',
		requestHeaders: [],
		responseHeaders: [],
		...over,
	};
}

test('log2 buckets and nearest-rank quantiles', () => {
	assert.equal(latencyBucket(0), 0);
	assert.equal(latencyBucket(0.001), 0); // 1 µs
	assert.equal(latencyBucket(0.004), 2); // 4 µs
	assert.equal(latencyBucket(1), 9); // 1000 µs: [512, 1024)
	assert.equal(latencyBucket(1e9), 31);
	const v = Array.from({ length: 100 }, (_, i) => i + 1);
	assert.equal(quantile(v, 0.5), 50);
	assert.equal(quantile(v, 0.99), 99);
	assert.equal(quantile([], 0.5), 0);
});

test('per process and per endpoint counts, errors, percentiles; drain starts a new window', () => {
	const agg = new RequestAggregator();
	for (let i = 1; i <= 100; i++)
		agg.add(req({ endpoint: '/users/:id', latencyMs: i, status: i % 10 === 0 ? 500 : i % 10 === 1 ? 404 : 200 }));
	agg.add(req({ method: 'POST', endpoint: '/users', latencyMs: 3 }));
	agg.add(req({ pid: 2, comm: 'other', latencyMs: 7 }));
	const w = agg.drain();
	const ep = w.endpoints.find((e) => e.endpoint === '/users/:id')!;
	assert.equal(ep.count, 100);
	assert.equal(ep.errors, 10);
	assert.equal(ep.clientErrors, 10);
	assert.equal(ep.errors / ep.count, 0.1);
	assert.equal(ep.p50Ms, 50);
	assert.equal(ep.p90Ms, 90);
	assert.equal(ep.p99Ms, 99);
	assert.equal(
		ep.histogram.reduce((a, b) => a + b, 0),
		100,
	);
	const p1 = w.processes.find((p) => p.pid === 1)!;
	assert.equal(p1.count, 101);
	assert.equal(w.processes.find((p) => p.pid === 2)!.count, 1);
	assert.equal(w.endpoints.length, 3);
	assert.deepEqual(agg.snapshot().endpoints, []);
});

test('endpoints per process are bounded', () => {
	const agg = new RequestAggregator({ maxEndpointsPerProcess: 3 });
	for (let i = 0; i < 10; i++) agg.add(req({ endpoint: `/e${i}` }));
	const eps = agg.snapshot().endpoints;
	assert.equal(eps.length, 4);
	assert.equal(eps.find((e) => e.endpoint === '(other)')?.count, 7);
});

test('a row per process, role, method and endpoint, in the order first seen; the overflow row per role and method too', () => {
	const agg = new RequestAggregator({ maxEndpointsPerProcess: 4 });
	const seen: [string, string, string][] = [
		['server', 'GET', '/a'],
		['client', 'GET', '/a'],
		['server', 'POST', '/a'],
		['server', 'GET', '/b'],
		['server', 'GET', '/c'],
		['client', 'PUT', '/d'],
		['server', 'GET', '/a'],
		['server', 'GET', '/e'],
	];
	for (const [role, method, endpoint] of seen) agg.add(req({ role: role as RequestRecord['role'], method, endpoint }));
	agg.add(req({ pid: 2, method: 'GET', endpoint: '/a' }));
	const rows = agg.snapshot().endpoints.map((e) => `${e.pid} ${e.role} ${e.method} ${e.endpoint} ${e.count}`);
	assert.deepEqual(
		rows,
		[
			'1 server GET /a 2',
			'1 client GET /a 1',
			'1 server POST /a 1',
			'1 server GET /b 1',
			'1 server GET /(other) 2',
			'1 client PUT /(other) 1',
			'2 server GET /a 1',
		].map((r) => r.replace('/(other)', '(other)')),
	);
	agg.drain();
	agg.add(req({ endpoint: '/z' }));
	assert.deepEqual(
		agg.snapshot().endpoints.map((e) => e.endpoint),
		['/z'],
	);
});
