import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCollectorMessage, parseLiveServerMessage } from './parse.ts';
import { REDACTED_VALUE, redactHeaders, redactRequestPath, redactRequestRecord } from './request-redaction.ts';
import { MAX_REQUESTS_PER_BATCH, REQUEST_LATENCY_BUCKETS, type RequestRecord } from './requests.ts';

const request: RequestRecord = {
	ts: 1_700_000_000_000.25,
	pid: 42,
	comm: 'node',
	role: 'server',
	method: 'GET',
	path: '/users/7?token=[REDACTED]',
	endpoint: '/users/:id',
	status: 200,
	latencyMs: 1.5,
	reqBytes: 80,
	respBytes: 120,
	local: '127.0.0.1:8443',
	remote: '127.0.0.1:50000',
	connection: '42:20:1',
	httpVersion: '1.1',
	requestHeaders: [['authorization', '[REDACTED]']],
	responseHeaders: [],
};

const stats = {
	count: 1,
	errors: 0,
	clientErrors: 0,
	reqBytes: 80,
	respBytes: 120,
	sumLatencyMs: 1.5,
	maxLatencyMs: 1.5,
	p50Ms: 1.5,
	p90Ms: 1.5,
	p99Ms: 1.5,
	histogram: new Array<number>(REQUEST_LATENCY_BUCKETS).fill(0),
};

test('requests and requestWindow messages validate, with bounds', () => {
	const ok = parseCollectorMessage(JSON.stringify({ type: 'requests', batch: { host: 'h', ts: 1, requests: [request], omitted: 0 } }));
	assert.ok(ok.ok);
	const tooMany = parseCollectorMessage(
		JSON.stringify({
			type: 'requests',
			batch: { host: 'h', ts: 1, requests: new Array(MAX_REQUESTS_PER_BATCH + 1).fill(request), omitted: 0 },
		}),
	);
	assert.equal(tooMany.ok, false);
	const badRole = parseCollectorMessage(
		JSON.stringify({ type: 'requests', batch: { host: 'h', ts: 1, requests: [{ ...request, role: 'peer' }], omitted: 0 } }),
	);
	assert.equal(badRole.ok, false);

	const window = {
		host: 'h',
		startMs: 1000,
		durationMs: 10_000,
		processes: [{ pid: 42, comm: 'node', ...stats }],
		endpoints: [{ pid: 42, comm: 'node', role: 'server', method: 'GET', endpoint: '/users/:id', ...stats }],
	};
	assert.ok(parseCollectorMessage(JSON.stringify({ type: 'requestWindow', window })).ok);
	const shortHistogram = { ...window, processes: [{ pid: 42, comm: 'node', ...stats, histogram: [1] }] };
	assert.equal(parseCollectorMessage(JSON.stringify({ type: 'requestWindow', window: shortHistogram })).ok, false);
});

test('the live requests message carries no headers or bodies', () => {
	const { requestHeaders: _a, responseHeaders: _b, ...live } = request;
	const parsed = parseLiveServerMessage(
		JSON.stringify({ type: 'requests', host: 'h', ts: 1, requests: [{ ...live, requestBody: 'x' }], omitted: 0 }),
	);
	assert.ok(parsed.ok);
	assert.ok(parsed.value.type === 'requests');
	assert.equal('requestBody' in parsed.value.requests[0]!, false);
});

test('the hub-side redaction catches what a collector let through, and is idempotent', () => {
	const leaked = {
		...request,
		path: '/x?token=abc&flag#frag',
		requestHeaders: [
			['Authorization', 'Bearer s3cret'],
			['Accept', 'text/html'],
		] as [string, string][],
		responseHeaders: [['Set-Cookie', 'sid=1']] as [string, string][],
	};
	const once = redactRequestRecord(leaked);
	assert.equal(once.path, '/x?token=REDACTED&REDACTED');
	assert.deepEqual(once.requestHeaders, [
		['Authorization', 'REDACTED'],
		['Accept', 'text/html'],
	]);
	assert.deepEqual(once.responseHeaders, [['Set-Cookie', 'REDACTED']]);
	assert.equal(JSON.stringify(once).includes('s3cret'), false);
	assert.deepEqual(redactRequestRecord(once), once);
	assert.equal(redactRequestPath('/plain'), '/plain');
});

test('credential headers lose their values whatever their case; names and other headers stay', () => {
	const out = redactHeaders([
		['Authorization', 'Bearer abc'],
		['proxy-authorization', 'Basic xyz'],
		['COOKIE', 'sid=1'],
		['Set-Cookie', 'sid=2; HttpOnly'],
		['Content-Type', 'text/plain'],
	]);
	assert.deepEqual(
		out.map(([, v]) => v),
		[REDACTED_VALUE, REDACTED_VALUE, REDACTED_VALUE, REDACTED_VALUE, 'text/plain'],
	);
	assert.deepEqual(
		out.map(([k]) => k),
		['Authorization', 'proxy-authorization', 'COOKIE', 'Set-Cookie', 'Content-Type'],
	);
});

test('query values and bare query parts are redacted, names and path kept, fragment dropped', () => {
	assert.equal(redactRequestPath('/s?q=secret&page=2'), `/s?q=${REDACTED_VALUE}&page=${REDACTED_VALUE}`);
	assert.equal(redactRequestPath('/cb?eyJhbGciOi'), `/cb?${REDACTED_VALUE}`);
	assert.equal(redactRequestPath('/a/b#frag'), '/a/b');
	assert.equal(redactRequestPath('/plain'), '/plain');
	assert.equal(redactRequestPath('/empty?'), '/empty?');
});
