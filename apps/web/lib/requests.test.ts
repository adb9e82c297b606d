import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialLiveState, reduceMessage, type HostRequest } from './live-store.ts';
import { bucketLabel, formatLatency, requestMatches, statusTone, summarizeRecent } from './requests.ts';

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
