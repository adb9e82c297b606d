import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { totalWeight } from '@firesight/profile';
import { ingestCloseCodes, type HubReply, type MessageId, type ProfileWindow, type RequestRecord } from '@firesight/protocol';
import { openStorage, type Storage } from '@firesight/store';
import { metricValue } from '@firesight/testing/metrics-text';
import { streamRequest } from '@firesight/testing/request-records';
import { HubState } from './hub-state.ts';
import { Ingest } from './ingest.ts';
import { createHubMetrics } from './metrics.ts';

const TOKEN = 'ingest-test-token';

function windowAt(i: number): ProfileWindow {
	return {
		host: 'h',
		startMs: 1_000_000 + i * 2000,
		durationMs: 1000,
		frequencyHz: 99,
		frames: [{ name: 'work', module: 'app', kind: 'user' }],
		samples: [{ pid: 1, comm: 'app', stack: [0], weight: i + 1 }],
	};
}

interface Rig {
	url: string;
	storage: Storage;
	events: string[];
	/** The next profile insert rejects. */
	failNext(): void;
	/** The next ledger record rejects, after the insert before it landed: a hub dying between the two. */
	failNextRecord(): void;
	state: HubState;
	/** Ledger high-water marks read from the store, as `host boot`. */
	reads: string[];
	/** The hub's /metrics text. */
	metrics(): Promise<string>;
	close(): Promise<void>;
}

/** An Ingest on a real in-memory store whose profile inserts and ledger records are logged in order. */
async function rig(
	opts: {
		maxMarks?: number;
		maxHeldMessages?: number;
		/** Wraps the real request store, e.g. to make it slow. */
		requests?: (real: Storage['requests']) => Storage['requests'];
	} = {},
): Promise<Rig> {
	const { requests: wrapRequests, ...ingestOpts } = opts;
	const storage = await openStorage({ backend: 'sqlite', path: ':memory:', pruneIntervalMs: 0 });
	const events: string[] = [];
	const reads: string[] = [];
	let fail = false;
	let failRecord = false;
	const profiles = Object.create(storage.profiles) as Storage['profiles'];
	profiles.insertWindow = async (w, id) => {
		if (fail) {
			fail = false;
			throw new Error('disk full');
		}
		await storage.profiles.insertWindow(w, id);
		events.push(`inserted ${w.startMs}`);
	};
	const ingested: Storage['ingested'] = {
		highWater: (host, boot) => (reads.push(`${host} ${boot}`), storage.ingested.highWater(host, boot)),
		async record(host, boot, seq) {
			if (failRecord) {
				failRecord = false;
				throw new Error('hub died');
			}
			await storage.ingested.record(host, boot, seq);
			events.push(`recorded ${seq}`);
		},
	};
	const state = new HubState();
	const metrics = createHubMetrics(state);
	const ingest = new Ingest({
		token: TOKEN,
		storage: { profiles, connections: storage.connections, requests: wrapRequests?.(storage.requests) ?? storage.requests, ingested },
		state,
		metrics,
		heartbeatMs: 60_000,
		log: () => {},
		...ingestOpts,
	});
	const server: Server = createServer();
	server.on('upgrade', (req, socket, head) => ingest.handleUpgrade(req, socket, head));
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	const { port } = server.address() as AddressInfo;
	return {
		url: `ws://127.0.0.1:${port}/ingest`,
		storage,
		events,
		state,
		reads,
		failNext: () => (fail = true),
		failNextRecord: () => (failRecord = true),
		metrics: () => metrics.registry.metrics(),
		async close() {
			await ingest.close();
			await new Promise((r) => server.close(r));
			await storage.close();
		},
	};
}

interface Client {
	ws: WebSocket;
	replies: HubReply[];
	closed: Promise<{ code: number; reason: string }>;
	send(message: object): void;
}

async function connect(r: Rig, hello: object): Promise<Client> {
	const ws = new WebSocket(r.url, { headers: { authorization: `Bearer ${TOKEN}` } });
	const replies: HubReply[] = [];
	ws.on('message', (d) => {
		const reply = JSON.parse(d.toString()) as HubReply;
		replies.push(reply);
		if (reply.type === 'ack' && reply.id) r.events.push(`ack ${reply.id.seq}`);
	});
	const closed = new Promise<{ code: number; reason: string }>((res) =>
		ws.once('close', (code, reason) => res({ code, reason: reason.toString() })),
	);
	await new Promise((res, rej) => {
		ws.once('open', res);
		ws.once('error', rej);
	});
	ws.send(JSON.stringify({ type: 'hello', version: 't', frequencyHz: 99, protocol: 1, ...hello }));
	return { ws, replies, closed, send: (m) => ws.send(JSON.stringify(m)) };
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
	const deadline = Date.now() + ms;
	while (!cond()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 10));
	}
}

/** The events of message `seq` of windowAt, in order. */
function lifeOf(events: string[], seq: number): string[] {
	return events.filter((e) => e === `inserted ${1_000_000 + seq * 2000}` || e === `recorded ${seq}` || e === `ack ${seq}`);
}

const acked = (c: Client, id: MessageId) => c.replies.some((r) => r.type === 'ack' && r.id?.boot === id.boot && r.id.seq === id.seq);

test('a stored message is acknowledged by id after its insert and its ledger record, and a replay is not stored again', async () => {
	const r = await rig();
	try {
		const a = await connect(r, { host: 'h', boot: 'b1' });
		a.send({ type: 'profile', window: windowAt(0), id: { boot: 'b1', seq: 0 } });
		a.send({ type: 'profile', window: windowAt(1), id: { boot: 'b1', seq: 1 } });
		await until('two acks', () => acked(a, { boot: 'b1', seq: 1 }));
		// Per message: stored, then recorded, then acknowledged (the socket may interleave messages).
		for (const seq of [0, 1])
			assert.deepEqual(lifeOf(r.events, seq), [`inserted ${1_000_000 + seq * 2000}`, `recorded ${seq}`, `ack ${seq}`]);
		assert.equal(r.events.length, 6);
		a.ws.close();
		await a.closed;

		// The same run replays both and one more: only the new one is stored.
		const b = await connect(r, { host: 'h', boot: 'b1' });
		for (let i = 0; i < 3; i++) b.send({ type: 'profile', window: windowAt(i), id: { boot: 'b1', seq: i } });
		await until('three acks', () => acked(b, { boot: 'b1', seq: 2 }));
		const replay = r.events.slice(6);
		for (const seq of [0, 1]) assert.deepEqual(lifeOf(replay, seq), [`ack ${seq}`]);
		assert.deepEqual(lifeOf(replay, 2), ['inserted 1004000', 'recorded 2', 'ack 2']);
		assert.equal(replay.length, 5);
		const all = await r.storage.profiles.query({ fromMs: 0, toMs: 2 ** 50 });
		assert.equal(all.windows, 3);
		assert.equal(totalWeight(all.profile), 1 + 2 + 3);
		b.ws.close();
	} finally {
		await r.close();
	}
});

test('the marks kept in memory are bounded; a forgotten one is read from the ledger again, so a replay is still not stored twice', async () => {
	const r = await rig({ maxMarks: 1 });
	try {
		const a = await connect(r, { host: 'h', boot: 'b1' });
		a.send({ type: 'profile', window: windowAt(0), id: { boot: 'b1', seq: 0 } });
		await until('the ack', () => acked(a, { boot: 'b1', seq: 0 }));
		// Another host's mark takes the one place.
		const g = await connect(r, { host: 'g', boot: 'b9' });
		g.send({ type: 'profile', window: { ...windowAt(5), host: 'g' }, id: { boot: 'b9', seq: 7 } });
		await until('g acked', () => acked(g, { boot: 'b9', seq: 7 }));
		assert.deepEqual(r.reads, ['h b1', 'g b9']);
		a.send({ type: 'profile', window: windowAt(0), id: { boot: 'b1', seq: 0 } });
		a.send({ type: 'profile', window: windowAt(1), id: { boot: 'b1', seq: 1 } });
		await until('the acks', () => acked(a, { boot: 'b1', seq: 1 }));
		assert.deepEqual(r.reads, ['h b1', 'g b9', 'h b1'], "h's mark was forgotten and read again");
		assert.deepEqual(lifeOf(r.events, 0), ['inserted 1000000', 'recorded 0', 'ack 0', 'ack 0'], 'the replay was not stored again');
		assert.equal((await r.storage.profiles.query({ fromMs: 0, toMs: 2 ** 50, host: 'h' })).windows, 2);
		a.ws.close();
		g.ws.close();
	} finally {
		await r.close();
	}
});

test('a failed insert is not acknowledged: the connection closes with a reason, and the replay is stored', async () => {
	const r = await rig();
	try {
		const a = await connect(r, { host: 'h', boot: 'b1' });
		r.failNext();
		a.send({ type: 'profile', window: windowAt(0), id: { boot: 'b1', seq: 0 } });
		a.send({ type: 'profile', window: windowAt(1), id: { boot: 'b1', seq: 1 } });
		a.send({ type: 'requests', batch: { host: 'h', ts: 1, requests: [], omitted: 0 } });
		const { code, reason } = await a.closed;
		assert.equal(code, ingestCloseCodes.storeFailed);
		assert.match(reason, /could not store the profile window: disk full/);
		// Nothing after the failure is stored either: a later id recorded would hide the failed one.
		assert.deepEqual(r.events, []);
		// The window comes back from the spool; the batch of requests, which has no id, is lost and counted.
		const lost = /firesight_hub_messages_rejected_total\{reason="closed"\} 1\n/;
		let text = '';
		for (const deadline = Date.now() + 10_000; !lost.test((text = await r.metrics())) && Date.now() < deadline;)
			await new Promise((res) => setTimeout(res, 10));
		assert.match(text, lost);
		assert.equal(await r.storage.ingested.highWater('h', 'b1'), -1);

		const b = await connect(r, { host: 'h', boot: 'b1' });
		b.send({ type: 'profile', window: windowAt(0), id: { boot: 'b1', seq: 0 } });
		b.send({ type: 'profile', window: windowAt(1), id: { boot: 'b1', seq: 1 } });
		await until('both acks', () => acked(b, { boot: 'b1', seq: 1 }));
		assert.equal((await r.storage.profiles.query({ fromMs: 0, toMs: 2 ** 50 })).windows, 2);
		b.ws.close();
	} finally {
		await r.close();
	}
});

test('a hub that fails between an insert and its ledger record does not store the replay twice', async () => {
	const r = await rig();
	try {
		const a = await connect(r, { host: 'h', boot: 'b1' });
		r.failNextRecord();
		a.send({ type: 'profile', window: windowAt(0), id: { boot: 'b1', seq: 0 } });
		const { code } = await a.closed;
		assert.equal(code, ingestCloseCodes.storeFailed);
		// The window landed, its record did not, and no ack went out: the collector replays it.
		assert.deepEqual(r.events, ['inserted 1000000']);
		assert.equal(await r.storage.ingested.highWater('h', 'b1'), 0, 'the insert carried its id');

		const b = await connect(r, { host: 'h', boot: 'b1' });
		b.send({ type: 'profile', window: windowAt(0), id: { boot: 'b1', seq: 0 } });
		b.send({ type: 'profile', window: windowAt(1), id: { boot: 'b1', seq: 1 } });
		await until('both acks', () => acked(b, { boot: 'b1', seq: 1 }));
		assert.deepEqual(lifeOf(r.events, 0), ['inserted 1000000', 'ack 0']);
		const all = await r.storage.profiles.query({ fromMs: 0, toMs: 2 ** 50 });
		assert.equal(all.windows, 2);
		assert.equal(totalWeight(all.profile), 1 + 2);
		b.ws.close();
	} finally {
		await r.close();
	}
});

test('a protocol version the hub does not speak closes the connection with a reason', async () => {
	const r = await rig();
	try {
		const a = await connect(r, { host: 'h', boot: 'b1', protocol: 99 });
		const { code, reason } = await a.closed;
		assert.equal(code, ingestCloseCodes.unsupportedVersion);
		assert.equal(reason, 'hub speaks protocol 1, collector 99');
		assert.equal(r.state.hosts().length, 0);
	} finally {
		await r.close();
	}
});

test('the same run reconnecting replaces its old connection; the host stays connected until the new one closes', async () => {
	const r = await rig();
	try {
		const a = await connect(r, { host: 'h', boot: 'b1' });
		await until('the host', () => r.state.hosts()[0]?.connected === true);
		const b = await connect(r, { host: 'h', boot: 'b1' });
		const old = await a.closed;
		assert.notEqual(old.code, ingestCloseCodes.hostInUse);
		b.send({ type: 'profile', window: windowAt(0), id: { boot: 'b1', seq: 0 } });
		await until('the ack', () => acked(b, { boot: 'b1', seq: 0 }));
		assert.equal(r.state.hosts()[0]?.connected, true);
		b.ws.close();
		await b.closed;
		await until('the host to be disconnected', () => r.state.hosts()[0]?.connected === false);
	} finally {
		await r.close();
	}
});

test('a store slower than its collector: the hub stops reading at its bound, TCP pushes back on the client, and everything sent is stored once the store catches up', async () => {
	const maxHeld = 8;
	let open = false;
	const waiting: (() => void)[] = [];
	let stored = 0;
	const r = await rig({
		maxHeldMessages: maxHeld,
		requests: (real) => {
			const slow = Object.create(real) as Storage['requests'];
			slow.insertBatch = async (batch) => {
				while (!open) await new Promise<void>((resolve) => waiting.push(resolve));
				await real.insertBatch(batch);
				stored += batch.requests.length;
			};
			return slow;
		},
	});
	try {
		const c = await connect(r, { host: 'h' });
		const now = Date.now();
		const record = (i: number): RequestRecord => streamRequest(i, now - i);
		let sent = 0;
		let batches = 0;
		let sentBytes = 0;
		let smallest = Infinity;
		const sendBatch = () => {
			const requests = Array.from({ length: 300 }, (_, k) => record(sent + k));
			const text = JSON.stringify({ type: 'requests', batch: { host: 'h', ts: now, requests, omitted: 0 } });
			c.ws.send(text);
			sent += requests.length;
			batches++;
			sentBytes += text.length;
			smallest = Math.min(smallest, text.length);
		};
		// The store holds every write: the client keeps sending until its own socket backs up,
		// which happens only once the hub stops reading (the kernel's buffers fill).
		const backedUp = 1024 * 1024;
		while (c.ws.bufferedAmount < backedUp) {
			assert.ok(
				sentBytes < 256 * 1024 * 1024,
				`no backpressure on the client after ${sentBytes} bytes sent (hub held ${metricValue(await r.metrics(), 'firesight_hub_ingest_held_messages')})`,
			);
			sendBatch();
			await new Promise((resolve) => setImmediate(resolve));
		}
		const stalled = await r.metrics();
		// ws parses a whole socket read (64 KiB at most) even after a pause; messages larger than a
		// read cannot complete a second one in it, so here the bound is exact.
		const allowed = maxHeld + Math.floor((64 * 1024) / smallest);
		assert.equal(allowed, maxHeld, 'the test sends messages larger than one socket read');
		assert.ok(metricValue(stalled, 'firesight_hub_ingest_held_messages') <= allowed, stalled);
		assert.ok(metricValue(stalled, 'firesight_hub_ingest_held_peak_messages') <= allowed, stalled);
		assert.ok(metricValue(stalled, 'firesight_hub_ingest_held_messages') >= 1, 'the hub holds what the store has not taken');
		assert.ok(metricValue(stalled, 'firesight_hub_ingest_paused_total') >= 1, stalled);
		assert.equal(stored, 0, 'nothing is stored while the store is stalled');

		// The store catches up: every request sent is stored, each batch acknowledged.
		open = true;
		for (const wake of waiting.splice(0)) wake();
		await until('every request sent is stored', () => stored === sent, 120_000);
		await until('every batch acknowledged', () => c.replies.filter((x) => x.type === 'ack').length === batches + 1, 120_000);
		const after = await r.metrics();
		assert.ok(metricValue(after, 'firesight_hub_ingest_held_peak_messages') <= allowed, after);
		assert.equal(metricValue(after, 'firesight_hub_ingest_held_messages'), 0);
		assert.ok(!/firesight_hub_messages_rejected_total\{/.test(after), `nothing was refused: ${after}`);
		c.ws.close();
	} finally {
		open = true;
		for (const wake of waiting.splice(0)) wake();
		await r.close();
	}
});
