import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SLOW_REQUEST_MS } from '@firesight/protocol';
import { endpointCpuHref, endpointTarget, parseEndpointCpuTarget, REQUEST_LABEL_RULE, requestTarget } from './endpoint-cpu-links.ts';

const row = { host: 'web-1', comm: 'node', method: 'GET', endpoint: '/api/users/:id', pids: [4242] };

test('an endpoint row opens its CPU by pid, or by command when several processes served it; the URL round-trips', () => {
	const target = endpointTarget(row, { kind: 'relative', preset: '1h' });
	assert.deepEqual(target, { endpoint: 'GET /api/users/:id', host: 'web-1', pid: 4242, range: { kind: 'relative', preset: '1h' } });
	const href = endpointCpuHref(target);
	assert.equal(href, '/endpoint-cpu?endpoint=GET+%2Fapi%2Fusers%2F%3Aid&host=web-1&pid=4242&range=1h');
	const parsed = parseEndpointCpuTarget(new URL(href, 'http://x').searchParams);
	assert.deepEqual(parsed, { target: { ...target, requestId: undefined }, warnings: [] });
	const several = endpointTarget({ ...row, pids: [1, 2] }, { kind: 'relative', preset: '15m' });
	assert.equal(several.comm, 'node');
	assert.equal(several.pid, undefined);
	assert.match(endpointCpuHref(several), /&comm=node&range=15m$/);
});

test('a request opens the CPU attributed to its requestId over its own lifetime; one without an id opens nothing', () => {
	const request = {
		host: 'web-1',
		pid: 7,
		role: 'server' as const,
		method: 'POST',
		endpoint: '/orders',
		ts: 1_700_000_000_000.4,
		latencyMs: 812.3,
	};
	assert.equal(requestTarget(request), null);
	const target = requestTarget({ ...request, requestId: 'b1:99' })!;
	// A second past its end: samples held back for it go out with the window after.
	assert.deepEqual(target.range, { kind: 'absolute', from: 1_700_000_000_000, to: 1_700_000_001_813 });
	const back = parseEndpointCpuTarget(new URL(endpointCpuHref(target), 'http://x').searchParams).target!;
	assert.deepEqual(back, { endpoint: 'POST /orders', requestId: 'b1:99', host: 'web-1', pid: 7, range: target.range });
});

test('bad parameters are said, one line each, and fall back', () => {
	assert.deepEqual(parseEndpointCpuTarget(new URLSearchParams('pid=3')), { target: null, warnings: [] });
	const parsed = parseEndpointCpuTarget(new URLSearchParams('endpoint=GET /&pid=x&range=3y'));
	assert.deepEqual(parsed.target?.range, { kind: 'relative', preset: '15m' });
	assert.deepEqual(parsed.warnings, [
		'Ignored range=3y: not a range on offer; showing the last 15 minutes',
		'Ignored pid=x: not a process id',
	]);
});

test('only a request whose samples carry its id opens its CPU: a server one, slow by the collector’s rule', () => {
	const request = {
		host: 'web-1',
		pid: 7,
		role: 'server' as const,
		method: 'GET',
		endpoint: '/',
		ts: 1_700_000_000_000,
		requestId: 'b1:5',
	};
	const opens = (latencyMs: number, p99Ms?: number | null, role: 'client' | 'server' = 'server') =>
		requestTarget({ ...request, role, latencyMs }, p99Ms) !== null;
	// The collector labels samples with the id from SLOW_REQUEST_MS (500 ms) on; 200 to 500 ms is not slow.
	assert.equal(opens(SLOW_REQUEST_MS), true);
	assert.equal(opens(SLOW_REQUEST_MS - 0.1), false);
	assert.equal(opens(250), false);
	// Or at or above its endpoint's p99, when known.
	assert.equal(opens(150, 120), true);
	assert.equal(opens(100, 120), false);
	assert.equal(opens(100, 0), false);
	// A client's samples are not attributed to the requests it sends.
	assert.equal(opens(900, null, 'client'), false);
	assert.match(REQUEST_LABEL_RULE, /slow in its collector's window: 500 ms or more, or at its window's p99/);
});
