import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { limits, type DataMessage, type RequestBatch, type RequestRecord, type RequestWindow } from '@firesight/protocol';
import { RequestAggregator } from './request-aggregates.ts';
import { tlsFeature, toWireRequest, type TlsCaptureLike } from './tls-feature.ts';
import type { TlsCaptureCounters } from './tls-capture.ts';

function sink() {
	const sent = { batches: [] as RequestBatch[], windows: [] as RequestWindow[] };
	const send = (m: DataMessage) => {
		if (m.type === 'requests') sent.batches.push(m.batch);
		else if (m.type === 'requestWindow') sent.windows.push(m.window);
		else throw new Error(`unexpected ${m.type}`);
	};
	return { sent, context: { host: 'h', send, log: () => {} } };
}

const req = (over: Partial<RequestRecord>): RequestRecord => ({
	ts: 1000.5,
	pid: 7,
	comm: 'node',
	role: 'server',
	method: 'GET',
	path: '/a?k=REDACTED',
	endpoint: '/a',
	status: 200,
	latencyMs: 2,
	reqBytes: 10,
	respBytes: 20,
	local: '127.0.0.1:443',
	remote: '127.0.0.1:5000',
	connection: '7:3:1',
	httpVersion: '1.1',
	requestHeaders: [['authorization', 'REDACTED']],
	responseHeaders: [],
	...over,
});

class FakeCapture extends EventEmitter implements TlsCaptureLike {
	agg = new RequestAggregator();
	started = false;
	stopped = false;
	start() {
		this.started = true;
	}
	stop() {
		this.stopped = true;
	}
	drainAggregates() {
		return this.agg.drain();
	}
	counters(): TlsCaptureCounters {
		return {
			kernel: {
				calls: 9,
				bytes: 9,
				dataLost: 3,
				controlLost: 0,
				truncated: 1,
				readFailed: 11,
				noEntry: 12,
				activeFull: 0,
				connFull: 0,
				requestContextFull: 4,
				requestSlotsFull: 0,
				responseUnmatched: 0,
				threadsFull: 0,
				streamDropped: 2,
				decodeErrors: 0,
			},
			discovery: { attachedFiles: 2, attachFailures: 1, processesScanned: 10, tlsProcesses: 2 },
			connections: {
				open: 1,
				closed: 0,
				evicted: 0,
				unboundSeen: 0,
				parseErrors: 5,
				desyncs: 6,
				skippedBytes: 7,
				filledGaps: 0,
				unpairedResponses: 8,
				unansweredRequests: 9,
				pendingDropped: 10,
			},
			requests: 0,
			otherProtocolBytes: 0,
		};
	}
	emitRequest(r: RequestRecord) {
		this.agg.add(r);
		this.emit('request', r);
	}
}

test('requests become bounded batches, process rates and p99, windows and drop counters', async () => {
	let clock = 10_000;
	const fake = new FakeCapture();
	const { context, sent } = sink();
	let bodies: readonly number[] = [];
	const tls = tlsFeature({
		maxPerSecond: 3,
		now: () => clock,
		captureBodies: [7],
		create: (o) => {
			bodies = o.captureBodies;
			return fake;
		},
	}).start(context);
	assert.ok(fake.started);
	assert.deepEqual(bodies, [7]);
	for (let i = 0; i < 4; i++) fake.emitRequest(req({ latencyMs: i + 1 }));
	fake.emitRequest(req({ pid: 8, latencyMs: 100 }));
	clock += 2000;
	void tls.tick!();
	assert.equal(sent.batches.length, 1);
	assert.equal(sent.batches[0]!.requests.length, 3);
	assert.equal(sent.batches[0]!.omitted, 2);
	assert.deepEqual(sent.batches[0]!.requests[0]!.requestHeaders, [['authorization', 'REDACTED']]);
	const rows = tls.processRows!([
		{ pid: 7, comm: 'node', cmdline: '', cpuPercent: 0, samplesPerSec: 0 },
		{ pid: 8, comm: 'curl', cmdline: '', cpuPercent: 0, samplesPerSec: 0 },
		{ pid: 9, comm: 'idle', cmdline: '', cpuPercent: 0, samplesPerSec: 0 },
	]);
	assert.deepEqual(
		rows.map((r) => [r.pid, r.requestsPerSec, r.p99Ms]),
		[
			[7, 2, 4],
			[8, 0.5, 100],
			[9, 0, undefined],
		],
	);
	assert.equal(tls.drops().dataLost, 3);
	assert.equal(tls.drops().streamDropped, 2);
	assert.equal(tls.drops().requestsNotSent, 2);
	assert.equal(tls.drops().requestContextFull, 4, 'request attribution losses reach the drops');
	assert.deepEqual([tls.drops().readFailed, tls.drops().noEntry], [11, 12], 'every kernel loss counter reaches the drops');
	assert.deepEqual(
		['parseErrors', 'desyncs', 'skippedBytes', 'unpairedResponses', 'unansweredRequests', 'pendingDropped'].map((n) => tls.drops()[n]),
		[5, 6, 7, 8, 9, 10],
		'HTTP/1 reassembly losses reach the drops',
	);

	void tls.tick!();
	assert.equal(sent.batches.length, 1, 'nothing new, nothing sent');
	void tls.window!();
	assert.equal(sent.windows.length, 1);
	assert.deepEqual(
		sent.windows[0]!.endpoints.map((e) => [e.pid, e.endpoint, e.count]),
		[
			[7, '/a', 4],
			[8, '/a', 1],
		],
	);
	assert.equal(sent.windows[0]!.endpoints[0]!.histogram.length, 32);
	// p99 forgets requests older than its span.
	clock += 20_000;
	assert.equal(tls.processRows!([{ pid: 7, comm: 'node', cmdline: '', cpuPercent: 0, samplesPerSec: 0 }])[0]!.p99Ms, undefined);
	fake.emitRequest(req({ ts: 2000 }));
	await tls.stop();
	assert.ok(fake.stopped);
	assert.equal(sent.batches.length, 2, 'stop sends what is pending');
	assert.ok(sent.batches[1]!.ts > sent.batches[0]!.ts);
	assert.equal(sent.windows.length, 2);
});

test('requests go out soon after they come, without waiting for a tick, within the per-second budget', async () => {
	let clock = 50_000;
	const fake = new FakeCapture();
	const { context, sent } = sink();
	const tls = tlsFeature({ maxPerSecond: 3, flushMs: 20, now: () => clock, create: () => fake }).start(context);
	const arrived = async (n: number) => {
		const deadline = Date.now() + 10_000;
		while (sent.batches.length < n) {
			assert.ok(Date.now() < deadline, `batch ${n} never sent without a tick`);
			await new Promise((r) => setTimeout(r, 5));
		}
	};
	fake.emitRequest(req({ path: '/first' }));
	fake.emitRequest(req({ path: '/second' }));
	await arrived(1);
	assert.deepEqual(
		sent.batches[0]!.requests.map((r) => r.path),
		['/first', '/second'],
		'one batch for what came together',
	);
	// The budget is per second, however the second's requests were split into batches.
	fake.emitRequest(req({ path: '/third' }));
	fake.emitRequest(req({ path: '/fourth' }));
	await arrived(2);
	assert.deepEqual(
		sent.batches[1]!.requests.map((r) => r.path),
		['/third'],
	);
	assert.equal(sent.batches[1]!.omitted, 1);
	void tls.tick!();
	fake.emitRequest(req({ path: '/not-yet' }));
	clock += 340;
	fake.emitRequest(req({ path: '/fifth' }));
	fake.emitRequest(req({ path: '/sixth' }));
	await arrived(3);
	assert.deepEqual(
		sent.batches[2]!.requests.map((r) => r.path),
		['/fifth'],
		'a third of a second later, a third of the budget; a tick gives none',
	);
	assert.equal(sent.batches[2]!.omitted, 2);
	assert.equal(tls.drops().requestsNotSent, 3);
	assert.ok(sent.batches[2]!.ts > sent.batches[1]!.ts && sent.batches[1]!.ts > sent.batches[0]!.ts);
	await tls.stop();
});

test("a busy second goes out as several batches, each within the wire's bound", async () => {
	const fake = new FakeCapture();
	const { context, sent } = sink();
	const tls = tlsFeature({ maxBatch: 4, maxPerSecond: 10, now: () => 1000, create: () => fake }).start(context);
	for (let i = 0; i < 12; i++) fake.emitRequest(req({ path: `/${i}` }));
	await tls.stop();
	assert.deepEqual(
		sent.batches.map((b) => b.requests.length),
		[4, 4, 2],
	);
	assert.deepEqual(
		sent.batches.flatMap((b) => b.requests.map((r) => r.path)),
		Array.from({ length: 10 }, (_, i) => `/${i}`),
	);
	assert.equal(
		sent.batches.reduce((n, b) => n + b.omitted, 0),
		2,
	);
	assert.equal(tls.drops().requestsNotSent, 2);
	for (let i = 1; i < sent.batches.length; i++) assert.ok(sent.batches[i]!.ts > sent.batches[i - 1]!.ts);
});

test('requests with their bodies kept go out in batches that fit the hub’s largest message', async () => {
	const fake = new FakeCapture();
	const { context, sent } = sink();
	const tls = tlsFeature({ now: () => 1000, create: () => fake }).start(context);
	// 80 requests of 1 MiB bodies: under the 2,000 of a batch, but not one message of 64 MiB.
	const body = 'b'.repeat(1 << 20);
	for (let i = 0; i < 80; i++) fake.emitRequest(req({ path: `/${i}`, requestBody: body }));
	await tls.stop();
	assert.ok(sent.batches.length > 1);
	assert.equal(
		sent.batches.reduce((n, b) => n + b.requests.length, 0),
		80,
	);
	for (const b of sent.batches) {
		const bytes = Buffer.byteLength(JSON.stringify({ type: 'requests', batch: b }));
		assert.ok(bytes <= limits.maxMessageBytes, `a batch of ${b.requests.length} is ${bytes} bytes`);
	}
});

test('a request record keeps its requestId on the wire, and has none when it got none', () => {
	assert.equal(toWireRequest(req({ requestId: '0a1b2c3d:1025' })).requestId, '0a1b2c3d:1025');
	assert.equal('requestId' in toWireRequest(req({})), false);
});

test('a request within the wire bounds goes out as it is; one past them is clipped to them', () => {
	const fits = req({ requestHeaders: [['x-long', 'v'.repeat(8192)]], status: 999 });
	assert.equal(toWireRequest(fits), fits);
	const past = req({
		status: 1200,
		latencyMs: -1,
		method: 'M'.repeat(40),
		requestHeaders: [['x-long', 'v'.repeat(9000)]],
		responseHeaders: Array.from({ length: 300 }, (_, i): [string, string] => [`h${i}`, 'x']),
		responseBody: 'b'.repeat((1 << 20) + 1),
	});
	const wire = toWireRequest(past);
	assert.notEqual(wire, past);
	assert.equal(wire.status, 999);
	assert.equal(wire.latencyMs, 0);
	assert.equal(wire.method.length, 32);
	assert.equal(wire.requestHeaders[0]![1].length, 8192);
	assert.equal(wire.responseHeaders.length, 256);
	assert.equal(wire.responseBody!.length, 1 << 20);
	// Each bound alone sends a request down the clipping path.
	for (const over of [
		{ ts: -1 },
		{ path: '/'.repeat(8193) },
		{ endpoint: '/'.repeat(8193) },
		{ httpVersion: '1'.repeat(17) },
		{ requestBody: 'b'.repeat((1 << 20) + 1) },
		{ requestHeaders: [['n'.repeat(257), 'v']] as [string, string][] },
	]) {
		const r = req(over);
		const w = toWireRequest(r);
		assert.notEqual(w, r, Object.keys(over).join());
		assert.ok(w.ts >= 0 && w.path.length <= 8192 && w.endpoint.length <= 8192 && w.httpVersion.length <= 16);
		assert.ok((w.requestBody?.length ?? 0) <= 1 << 20 && w.requestHeaders.every(([n]) => n.length <= 256));
	}
});
