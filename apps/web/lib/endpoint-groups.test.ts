import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EndpointSummary } from '@firesight/store';
import { groupByCommand, histogramBuckets } from './endpoint-groups.ts';
import { endpointMatches } from './requests.ts';

function endpoint(pid: number, comm: string, role: 'client' | 'server', fields: Partial<EndpointSummary> = {}): EndpointSummary {
	const histogram = new Array<number>(32).fill(0);
	histogram[10] = 1; // about 1-2 ms
	return {
		host: 'h',
		pid,
		comm,
		role,
		method: 'GET',
		endpoint: '/api/users/:id',
		count: 1,
		ratePerSec: 0.1,
		errors: 0,
		clientErrors: 0,
		errorRate: 0,
		reqBytes: 100,
		respBytes: 1000,
		meanMs: 1.5,
		maxMs: 1.5,
		p50Ms: 1.5,
		p90Ms: 1.5,
		p99Ms: 1.5,
		histogram,
		...fields,
	};
}

test('every curl calling one endpoint is one client row; the server side stays apart', () => {
	const slow = new Array<number>(32).fill(0);
	slow[16] = 1; // 65-131 ms
	const rows = groupByCommand([
		...Array.from({ length: 631 }, (_, i) => endpoint(20_000 + i, 'curl', 'client')),
		endpoint(20_999, 'curl', 'client', { errors: 1, errorRate: 1, histogram: slow, maxMs: 100, meanMs: 100 }),
		endpoint(80, 'nginx', 'server', { count: 400 }),
		endpoint(81, 'nginx', 'server', { count: 232 }),
		endpoint(82, 'curl', 'client', { method: 'POST' }),
	]);
	assert.deepEqual(
		rows.map((r) => `${r.comm} ${r.role} ${r.method} ${r.pids.length} ${r.count}`),
		['curl client GET 632 632', 'nginx server GET 2 632', 'curl client POST 1 1'],
	);
	const curl = rows[0]!;
	assert.equal(curl.errors, 1);
	assert.equal(curl.errorRate, 1 / 632);
	assert.ok(Math.abs(curl.ratePerSec - 63.2) < 1e-9);
	assert.equal(curl.maxMs, 100);
	assert.equal(curl.histogram[10], 631);
	assert.equal(curl.histogram[16], 1);
	// 631 of 632 took 1-2 ms: the p99 (rank 626) is in that bucket, not the one slow request's.
	assert.ok(curl.p99Ms >= 1.024 && curl.p99Ms < 2.048, `p99 ${curl.p99Ms}`);
	assert.equal(rows[1]!.pids.join(','), '80,81');
});

test('the chart gets the buckets from the first to the last one with requests', () => {
	const histogram = new Array<number>(32).fill(0);
	histogram[3] = 2;
	histogram[6] = 1;
	const buckets = histogramBuckets(histogram);
	assert.deepEqual(
		buckets.map((b) => [b.index, b.count]),
		[
			[3, 2],
			[4, 0],
			[5, 0],
			[6, 1],
		],
	);
	assert.equal(buckets[0]!.lowMs, 0.008);
	assert.deepEqual(histogramBuckets(new Array<number>(32).fill(0)), []);
});

test('the endpoint filter looks at the command, method, endpoint, side and pids', () => {
	const [curl] = groupByCommand([endpoint(20_001, 'curl', 'client'), endpoint(20_002, 'curl', 'client')]);
	assert.ok(curl);
	assert.equal(endpointMatches(curl, ''), true);
	assert.equal(endpointMatches(curl, 'users/'), true);
	assert.equal(endpointMatches(curl, 'curl'), true);
	assert.equal(endpointMatches(curl, 'get'), true);
	assert.equal(endpointMatches(curl, 'client'), true);
	assert.equal(endpointMatches(curl, '20002'), true, 'any of its pids');
	assert.equal(endpointMatches(curl, 'server'), false);
	assert.equal(endpointMatches(curl, 'orders'), false);
});
