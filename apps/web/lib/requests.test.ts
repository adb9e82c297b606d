import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialLiveState, reduceMessage, type HostRequest } from './live-store.ts';
import type { EndpointSummary } from '@firesight/store';
import { SLOW_REQUEST_MS } from '@firesight/protocol';
import { requestTarget } from './endpoint-cpu-links.ts';
import { bucketLabel, formatLatency, requestEndpointP99, requestMatches, statusTone, summarizeRecent } from './requests.ts';

const r = (over: Partial<HostRequest>): HostRequest => ({
	host: 'h',
	ts: 1,
	pid: 5,
	comm: 'node',
	role: 'server',
	method: 'GET',
	path: '/a',
	endpoint: '/a',
	status: 200,
	latencyMs: 1,
	reqBytes: 1,
	respBytes: 1,
	local: null,
	remote: '10.0.0.9:443',
	connection: null,
	httpVersion: '1.1',
	...over,
});

test('latency and bucket labels read naturally', () => {
	assert.equal(formatLatency(0.82), '820 µs');
	assert.equal(formatLatency(1.254), '1.25 ms');
	assert.equal(formatLatency(312.4), '312 ms');
	assert.equal(formatLatency(1420), '1.42 s');
	assert.equal(bucketLabel(1.024, 2.048), '1.02 ms–2.05 ms');
	assert.equal(bucketLabel(0, 0.002), '0–2 µs');
	assert.deepEqual([200, 302, 404, 503, 0].map(statusTone), ['ok', 'redirect', 'client-error', 'server-error', 'unknown']);
});

test('recent summary and filter', () => {
	const list = [...Array.from({ length: 99 }, (_, i) => r({ latencyMs: i + 1 })), r({ latencyMs: 1000, status: 502 })];
	const s = summarizeRecent(list);
	assert.equal(s.count, 100);
	assert.equal(s.errorRate, 0.01);
	assert.equal(s.p99Ms, 99);
	assert.equal(requestMatches(r({ path: '/Users/7' }), '/users'), true);
	assert.equal(requestMatches(r({}), 'post'), false);
	assert.equal(requestMatches(r({}), '10.0.0.9'), true);
});

test('live request batches append per host, drop repeats by batch cursor, and stay bounded', () => {
	const batch = (ts: number, n: number) => ({
		type: 'requests' as const,
		host: 'h',
		ts,
		omitted: 0,
		requests: Array.from({ length: n }, (_, i) => {
			const { host: _h, ...x } = r({ ts: ts + i });
			return x;
		}),
	});
	let state = reduceMessage(initialLiveState, batch(1000, 2));
	state = reduceMessage(state, batch(2000, 1));
	assert.equal(state.requests.length, 3);
	assert.equal(reduceMessage(state, batch(2000, 1)), state, 'a backfilled batch is not added twice');
	state = reduceMessage(state, batch(3000, 1200));
	assert.equal(state.requests.length, 1000);
	assert.equal(state.requests.at(-1)?.ts, 3000 + 1199);
});

test("a request at or above its endpoint's p99 in its process links to its CPU under SLOW_REQUEST_MS; one below does not", () => {
	const endpoint = (over: Partial<EndpointSummary>): EndpointSummary => ({
		host: 'h',
		pid: 5,
		comm: 'node',
		role: 'server',
		method: 'GET',
		endpoint: '/a',
		count: 1000,
		ratePerSec: 1,
		errors: 0,
		clientErrors: 0,
		errorRate: 0,
		reqBytes: 0,
		respBytes: 0,
		meanMs: 20,
		maxMs: 300,
		p50Ms: 20,
		p90Ms: 60,
		p99Ms: 120,
		histogram: [],
		...over,
	});
	// Another process, another side, another host and another method of the same path have p99s of their own.
	const endpoints = [
		endpoint({ pid: 6, p99Ms: 10 }),
		endpoint({ role: 'client', p99Ms: 11 }),
		endpoint({ host: 'g', p99Ms: 12 }),
		endpoint({ method: 'POST', p99Ms: 13 }),
		endpoint({}),
	];
	const p99 = requestEndpointP99(endpoints, r({}));
	assert.equal(p99, 120);
	assert.equal(requestEndpointP99(endpoints, r({ endpoint: '/b' })), null);
	assert.equal(requestEndpointP99([endpoint({ count: 0 })], r({})), null);
	assert.equal(requestEndpointP99(undefined, r({})), null);

	const links = (latencyMs: number, p99Ms: number | null) => requestTarget(r({ latencyMs, requestId: 'b:1' }), p99Ms) !== null;
	assert.ok(150 < SLOW_REQUEST_MS);
	assert.equal(links(150, p99), true);
	assert.equal(links(120, p99), true);
	assert.equal(links(80, p99), false);
	assert.equal(links(150, null), false);
	assert.equal(links(SLOW_REQUEST_MS, null), true);
});
