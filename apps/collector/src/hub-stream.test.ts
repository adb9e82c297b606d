import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { totalWeight } from '@firesight/profile';
import { MAX_REQUEST_BATCH_WEIGHT, type LiveStats, type ProfileWindow, type RequestRecord } from '@firesight/protocol';
import { startHub, type Hub } from '@firesight/web/server';
import { requestRecord } from '@firesight/testing/request-records';
import { HubStream, ingestUrl } from './hub-stream.ts';

const TOKEN = 'stream-token';

function windowAt(startMs: number, count: number): ProfileWindow {
	return {
		host: 'stream-host',
		startMs,
		durationMs: 1000,
		frequencyHz: 99,
		frames: [{ name: 'work', module: 'app', kind: 'user' }],
		samples: [{ pid: 1, comm: 'app', stack: [0], weight: count }],
	};
}

function stats(ts: number): LiveStats {
	return { host: 'stream-host', ts, frequencyHz: 99, processes: [], drops: {} };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await cond())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 20));
	}
}

function hubAt(dir: string, port = 0): Promise<Hub> {
	return startHub({ listen: { host: '127.0.0.1', port }, dataDir: dir, token: TOKEN, web: false, log: () => {} });
}

async function samples(hub: Hub): Promise<number> {
	return totalWeight((await hub.storage.profiles.query({ fromMs: 0, toMs: 2 ** 50 })).profile);
}

test('ingestUrl turns a hub URL into its ingest endpoint', () => {
	assert.equal(ingestUrl('http://127.0.0.1:7300'), 'ws://127.0.0.1:7300/ingest');
	assert.equal(ingestUrl('https://hub.example:443/'), 'wss://hub.example/ingest');
	assert.equal(ingestUrl('ws://h:1/custom'), 'ws://h:1/custom');
	assert.throws(() => ingestUrl('ftp://h'), /unsupported/);
});

test('windows reach the hub, and spooled ones survive a hub restart; the cap drops the oldest, counted', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-stream-'));
	let hub = await hubAt(dir);
	const port = hub.port;
	// Room for three of the windows below, not four (each is the same length).
	const one = JSON.stringify({ type: 'profile', window: windowAt(2_000_000, 10), id: { boot: '0123456789abcdef', seq: 1 } });
	const stream = new HubStream({
		hub: hub.url,
		token: TOKEN,
		hello: { host: 'stream-host', version: 'test', frequencyHz: 99 },
		spool: { maxBytes: Buffer.byteLength(one) * 3 + 10 },
		maxLiveQueued: 2,
		initialBackoffMs: 20,
		maxBackoffMs: 200,
	});
	try {
		stream.send({ type: 'profile', window: windowAt(1_000_000, 3) });
		stream.send({ type: 'live', stats: stats(1) });
		await until('the first window', async () => (await samples(hub)) === 3);
		await until('the live stats', () => hub.state.processes().length === 1);
		await until('its ack', () => stream.counters.spooled === 0);
		assert.equal(stream.counters.acked, 1);
		assert.equal(hub.state.hosts()[0]?.connected, true);
		assert.equal(stream.counters.connects, 1);

		await hub.close();
		await until('the stream to notice', () => !stream.counters.connected);

		// With the hub gone: 3 windows spooled, 3 live snapshots into a queue of 2.
		for (let i = 0; i < 3; i++) {
			stream.send({ type: 'profile', window: windowAt(2_000_000 + i * 1000, 10 * (i + 1)) });
			stream.send({ type: 'live', stats: stats(10 + i) });
		}
		const c = stream.counters;
		assert.equal(c.spooled, 3);
		assert.equal(c.queued, 5);
		assert.deepEqual(c.dropped, { window: 0, live: 1, requests: 0, requestsUnconfirmed: 0 });
		// A fourth window over the cap costs the oldest one (10 samples).
		stream.send({ type: 'profile', window: windowAt(2_003_000, 40) });
		assert.deepEqual(stream.counters.dropped, { window: 1, live: 1, requests: 0, requestsUnconfirmed: 0 });
		assert.equal(stream.counters.spooled, 3);

		hub = await hubAt(dir, port);
		await until('the spooled windows after the restart', async () => (await samples(hub)) === 3 + 20 + 30 + 40);
		await until('their acks', () => stream.counters.spooled === 0);
		assert.equal(stream.counters.connects, 2);
		await until('the hub to see the host again', () => hub.state.hosts()[0]?.connected === true);
	} finally {
		await stream.close();
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	}
});

test('batches of requests waiting for a slow hub join into one rather than being dropped; they have their own bound, counted by request', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-stream-'));
	let hub = await hubAt(dir);
	const port = hub.port;
	await hub.close();
	const stream = new HubStream({
		hub: hub.url,
		token: TOKEN,
		hello: { host: 'stream-host', version: 'test', frequencyHz: 99 },
		maxLiveQueued: 2,
		maxQueuedRequests: 5,
		initialBackoffMs: 20,
		maxBackoffMs: 200,
	});
	const request = (path: string): RequestRecord => requestRecord({ pid: 7, path, endpoint: path, reqBytes: 0, respBytes: 0 });
	try {
		// With the hub gone: three snapshots into a queue of two, and seven requests in three batches into room for five.
		for (let i = 0; i < 3; i++) {
			stream.send({ type: 'live', stats: stats(10 + i) });
			const requests = (i === 0 ? ['/x0', '/x1', '/r0'] : [`/r${i}`, ...(i === 2 ? ['/r3', '/r4'] : [])]).map(request);
			stream.send({ type: 'requests', batch: { host: 'stream-host', ts: 100 + i, requests, omitted: i } });
		}
		assert.equal(stream.counters.queued, 3, 'two snapshots and one batch of requests');
		assert.equal(stream.counters.dropped.live, 1, 'one superseded snapshot');
		assert.equal(stream.counters.dropped.requests, 2, 'the two oldest requests');
		hub = await hubAt(dir, port);
		const batches = () => hub.state.backfill().filter((m) => m.type === 'requests');
		await until('the requests at the hub', () => batches().length > 0);
		assert.deepEqual(
			batches().flatMap((m) => (m.type === 'requests' ? m.requests.map((r) => r.path) : [])),
			['/r0', '/r1', '/r2', '/r3', '/r4'],
			'every request within the bound arrives, in order',
		);
		assert.deepEqual(
			batches().map((m) => (m.type === 'requests' ? [m.ts, m.omitted] : [])),
			[[102, 3]],
			'one batch, stamped as the newest, with the omitted counts summed',
		);
		await until('the newest snapshot', () => hub.state.processes().length === 1);
	} finally {
		await stream.close();
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	}
});

test('waiting batches of requests join only while their wire weight stays within a batch', async () => {
	const stream = new HubStream({
		// Nothing listens there: every batch waits.
		hub: 'http://127.0.0.1:9',
		token: TOKEN,
		hello: { host: 'stream-host', version: 'test', frequencyHz: 99 },
		initialBackoffMs: 60_000,
		maxBackoffMs: 60_000,
	});
	// Requests of about a fifth of a batch's weight each.
	const big = (path: string): RequestRecord =>
		requestRecord({
			pid: 7,
			path,
			endpoint: path,
			reqBytes: 0,
			respBytes: 0,
			requestHeaders: Array.from({ length: Math.ceil(MAX_REQUEST_BATCH_WEIGHT / 5 / 6 / 8192) }, (_, i) => [`x-${i}`, 'v'.repeat(8192)]),
		});
	const send = (ts: number, n: number) =>
		stream.send({
			type: 'requests',
			batch: { host: 'stream-host', ts, requests: Array.from({ length: n }, (_, i) => big(`/${ts}/${i}`)), omitted: 0 },
		});
	try {
		send(1, 3);
		send(2, 1);
		assert.equal(stream.counters.queued, 1, 'four fifths: one batch');
		send(3, 1);
		assert.equal(stream.counters.queued, 2, 'a fifth more would pass the weight: a batch of its own');
		send(4, 3);
		assert.equal(stream.counters.queued, 2, 'the newest batch takes three more');
		send(5, 1);
		assert.equal(stream.counters.queued, 3);
	} finally {
		await stream.close();
	}
});

test('a wrong token is counted and retried, not fatal', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-stream-'));
	const hub = await hubAt(dir);
	const stream = new HubStream({
		hub: hub.url,
		token: 'wrong',
		hello: { host: 'h', version: 'test', frequencyHz: 99 },
		initialBackoffMs: 10,
		maxBackoffMs: 40,
	});
	try {
		await until('two refusals', () => stream.counters.unauthorized >= 2);
		assert.equal(stream.counters.connects, 0);
		assert.equal(hub.state.hosts().length, 0);
	} finally {
		await stream.close();
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	}
});

test('the hub answering an error is counted', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-stream-'));
	const hub = await hubAt(dir);
	const stream = new HubStream({ hub: hub.url, token: TOKEN, hello: { host: 'h', version: 'test', frequencyHz: 99 } });
	try {
		const rejected = new Promise<string>((r) => stream.once('rejected', (code) => r(code)));
		// A window claiming another host is refused by the hub.
		stream.send({ type: 'profile', window: windowAt(1, 1) });
		assert.equal(await rejected, 'bad_message');
		assert.equal(stream.counters.rejected, 1);
	} finally {
		await stream.close();
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	}
});
