import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import type { AppRouter } from '@firesight/api';
import {
	parseLiveServerMessage,
	type CollectorMessage,
	type HubReply,
	type LiveServerMessage,
	type ProfileWindow,
} from '@firesight/protocol';
import { profileWindow as buildProfileWindow, userFrames } from '@firesight/testing/profile-windows';
import { upgradeStatus, withTestHub, wsUrl } from './hub-test-harness.ts';
import { startHub, type Hub } from './index.ts';

const TOKEN = 'test-token';

const withHub = (fn: (hub: Hub) => Promise<void>, extra: { heartbeatMs?: number } = {}) => withTestHub({ token: TOKEN, ...extra }, fn);

/** A socket with a queue of received JSON messages and a way to wait for the next matching one. */
class Client<T> {
	readonly ws: WebSocket;
	readonly received: T[] = [];
	#waiters: { pred: (m: T) => boolean; resolve: (m: T) => void }[] = [];

	constructor(url: string, headers: Record<string, string> = {}, parse: (text: string) => T) {
		this.ws = new WebSocket(url, { headers });
		this.ws.on('message', (data) => {
			const m = parse(data.toString());
			this.received.push(m);
			this.#waiters = this.#waiters.filter((w) => (w.pred(m) ? (w.resolve(m), false) : true));
		});
	}

	open(): Promise<void> {
		return new Promise((resolve, reject) => {
			this.ws.once('open', () => resolve());
			this.ws.once('error', reject);
		});
	}

	next(pred: (m: T) => boolean, timeoutMs = 3000): Promise<T> {
		const hit = this.received.find(pred);
		if (hit) {
			this.received.splice(this.received.indexOf(hit), 1);
			return Promise.resolve(hit);
		}
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error('timed out waiting for a message')), timeoutMs);
			this.#waiters.push({
				pred,
				resolve: (m) => {
					clearTimeout(timer);
					this.received.splice(this.received.indexOf(m), 1);
					resolve(m);
				},
			});
		});
	}

	send(msg: CollectorMessage | string): void {
		this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
	}

	close(): void {
		this.ws.close();
	}
}

function browser(hub: Hub): Client<LiveServerMessage> {
	return new Client(wsUrl(hub, '/live'), {}, (text) => {
		const r = parseLiveServerMessage(text);
		if (!r.ok) throw new Error(`hub sent an invalid live message: ${r.error}`);
		return r.value;
	});
}

function collector(hub: Hub): Client<HubReply> {
	return new Client(wsUrl(hub, '/ingest'), { authorization: `Bearer ${TOKEN}` }, (t) => JSON.parse(t) as HubReply);
}

const now = Date.now();
const profileWindow: ProfileWindow = buildProfileWindow(
	'box',
	now - 10_000,
	userFrames('burn', 'main', 'spin', 'idle'),
	[
		{ pid: 4242, comm: 'burn', stack: [0, 1], weight: 75 },
		{ pid: 4242, comm: 'burn', stack: [0, 2], weight: 25 },
	],
	{ frequencyHz: 99 },
);

test('collectors need the token; windows go in over /ingest and come back over tRPC and pprof', () =>
	withHub(async (hub) => {
		assert.equal(await upgradeStatus(wsUrl(hub, '/ingest'), {}), 401);
		assert.equal(await upgradeStatus(wsUrl(hub, '/ingest'), { authorization: 'Bearer wrong' }), 401);
		assert.equal(await upgradeStatus(wsUrl(hub, '/ingest'), { authorization: `Bearer ${TOKEN}` }), 101);

		const page = browser(hub);
		await page.open();
		const first = await page.next(() => true);
		assert.deepEqual(first, { type: 'status', hosts: [] });

		const c = collector(hub);
		await c.open();
		c.send({ type: 'profile', window: profileWindow });
		const early = await c.next((m) => m.type === 'error');
		assert.equal(early.type === 'error' && early.code, 'not_hello');

		c.send({ type: 'hello', host: 'box', version: '0.1.0', frequencyHz: 99 });
		const status = await page.next((m) => m.type === 'status' && m.hosts.length === 1);
		assert.equal(status.type === 'status' && status.hosts[0]?.connected, true);

		c.send('not json');
		const bad = await c.next((m) => m.type === 'error');
		assert.match(bad.type === 'error' ? bad.message : '', /not JSON/);
		// A sample pointing past the frame table is dropped and counted; the window is not lost.
		c.send(
			JSON.stringify({
				type: 'profile',
				window: { ...profileWindow, startMs: profileWindow.startMs - 10_000, samples: [{ pid: 1, comm: 'x', stack: [9], weight: 1 }] },
			}),
		);
		await page.next((m) => m.type === 'window' && m.startMs === profileWindow.startMs - 10_000);

		c.send({ type: 'profile', window: profileWindow });
		const win = await page.next((m) => m.type === 'window');
		assert.deepEqual(win, { type: 'window', host: 'box', startMs: profileWindow.startMs, durationMs: 10_000 });

		const trpc = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${hub.url}/trpc` })] });
		const flame = await trpc.profile.flame.query({ fromMs: now - 60_000, toMs: now + 1000, pid: 4242, minFraction: 0 });
		assert.equal(flame.totalSamples, 100);
		const spin = flame.topFunctions.find((f) => f.name === 'spin');
		assert.equal(spin?.self, 75);
		const again = await trpc.profile.flame.query({ fromMs: now - 60_000, toMs: now + 1000, pid: 4242, minFraction: 0 });
		assert.equal(again.cached, true);
		const folded = await trpc.profile.folded.query({ fromMs: now - 60_000, toMs: now + 1000, comm: 'burn' });
		assert.equal(folded.text, 'burn;main;idle 25\nburn;main;spin 75\n');
		await assert.rejects(trpc.profile.flame.query({ fromMs: now, toMs: now - 1 }), (err: TRPCClientError<AppRouter>) => {
			assert.equal(err.data?.firesight, 'BAD_INPUT');
			assert.match(err.message, /fromMs must be before toMs/);
			return true;
		});

		const pprof = await fetch(`${hub.url}/api/pprof?from=${now - 60_000}&to=${now + 1000}&pid=4242`);
		assert.equal(pprof.status, 200);
		assert.equal(pprof.headers.get('content-type'), 'application/octet-stream');
		assert.match(pprof.headers.get('content-disposition') ?? '', /attachment; filename="firesight-pid4242-.*\.pb\.gz"/);
		const bytes = new Uint8Array(await pprof.arrayBuffer());
		assert.deepEqual([bytes[0], bytes[1]], [0x1f, 0x8b]);
		const badPprof = await fetch(`${hub.url}/api/pprof?from=abc&to=1`);
		assert.equal(badPprof.status, 400);

		const metrics = await (await fetch(`${hub.url}/metrics`)).text();
		assert.match(metrics, /firesight_hub_windows_ingested_total\{host="box"\} 2\b/);
		assert.match(metrics, /firesight_hub_range_cache_queries_total\{result="merged"\} [1-9]/);
		assert.match(metrics, /firesight_hub_range_cache_queries_total\{result="hit"\} [1-9]/);
		assert.match(metrics, /firesight_hub_messages_rejected_total\{reason="invalid"\} 1\b/);
		assert.match(metrics, /firesight_hub_window_repairs_total\{reason="stack_dropped"\} 1\b/);
		assert.match(metrics, /firesight_hub_ingest_unauthorized_total 2\b/);
		assert.match(metrics, /firesight_hub_browsers_connected 1\b/);

		c.close();
		const gone = await page.next((m) => m.type === 'status' && m.hosts[0]?.connected === false);
		assert.equal(gone.type, 'status');
		page.close();
	}));

test('live stats reach browsers, and a new browser gets status then the latest processes', () =>
	withHub(async (hub) => {
		const c = collector(hub);
		await c.open();
		c.send({ type: 'hello', host: 'box', version: '0.1.0', frequencyHz: 99 });
		const page = browser(hub);
		await page.open();
		await page.next((m) => m.type === 'status' && m.hosts[0]?.connected === true);
		const rows = [{ pid: 4242, comm: 'burn', cmdline: './burn 5', cpuPercent: 98.5, samplesPerSec: 97.5 }];
		c.send({ type: 'live', stats: { host: 'box', ts: now, frequencyHz: 99, processes: rows, drops: { ringbuf: 3 } } });
		const live = await page.next((m) => m.type === 'processes');
		assert.deepEqual(live, { type: 'processes', host: 'box', ts: now, rows });

		const late = browser(hub);
		await late.open();
		const a = await late.next(() => true);
		const b = await late.next(() => true);
		assert.equal(a.type, 'status');
		assert.equal(a.type === 'status' && a.hosts[0]?.drops.ringbuf, 3);
		assert.deepEqual(b, live);

		const trpc = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${hub.url}/trpc` })] });
		const found = await trpc.processes.find.query({ pid: 4242 });
		assert.equal(found.known && found.live && found.cmdline, './burn 5');
		const hosts = await trpc.hosts.list.query();
		assert.deepEqual(
			hosts.map((h) => [h.host, h.connected]),
			[['box', true]],
		);
		c.close();
		page.close();
		late.close();
	}));

test('a collector that stops answering pings is marked disconnected', () =>
	withHub(
		async (hub) => {
			const c = collector(hub);
			await c.open();
			c.send({ type: 'hello', host: 'mute', version: '0', frequencyHz: 99 });
			await c.next((m) => m.type === 'ack');
			// Pausing the socket stops ws from answering pings, like a hung collector.
			(c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
			const deadline = Date.now() + 3000;
			while (hub.state.hosts()[0]?.connected !== false) {
				assert.ok(Date.now() < deadline, 'hub never noticed the silent collector');
				await new Promise((r) => setTimeout(r, 20));
			}
			c.ws.terminate();
		},
		{ heartbeatMs: 100 },
	));

test('close() is idempotent and frees the port', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-hub-'));
	try {
		const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir: dir, token: TOKEN, web: false, log: () => {} });
		const page = browser(hub);
		await page.open();
		const closed = new Promise((r) => page.ws.once('close', r));
		await Promise.all([hub.close(), hub.close()]);
		await closed;
		const again = await startHub({ listen: { host: '127.0.0.1', port: hub.port }, dataDir: dir, token: TOKEN, web: false, log: () => {} });
		assert.equal(again.port, hub.port);
		await again.close();
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test("every message type is checked against its connection's host; features, drops and latest snapshots reach browsers and /metrics", () =>
	withHub(async (hub) => {
		const c = collector(hub);
		await c.open();
		c.send({ type: 'hello', host: 'box', version: '0.1.0', frequencyHz: 99 });
		const snapshot = (host: string) => ({
			host,
			ts: now,
			connections: [],
			omitted: 0,
			processes: [],
			totals: { connections: 0, openConnections: 0, retransmits: 0, retransmitsPerSecond: 0 },
		});
		c.send({ type: 'connections', snapshot: snapshot('other') });
		const refused = await c.next((m) => m.type === 'error');
		assert.equal(refused.type === 'error' && refused.message, "connections for host 'other' on the connection of 'box'");
		c.send({ type: 'retransmitWindow', window: { host: 'other', startMs: now, durationMs: 1000, connections: [] } });
		const refusedWindow = await c.next((m) => m.type === 'error');
		assert.match(refusedWindow.type === 'error' ? refusedWindow.message : '', /^retransmitWindow for host 'other'/);

		const features = { running: ['profile', 'tcp'], failed: [{ name: 'tls', reason: 'no uprobes' }] };
		c.send({ type: 'live', stats: { host: 'box', ts: now, frequencyHz: 99, processes: [], drops: { 'tcp.ringBufferFull': 4 }, features } });
		c.send({ type: 'connections', snapshot: snapshot('box') });
		const late = browser(hub);
		await late.open();
		const status = await late.next((m) => m.type === 'status' && m.hosts[0]?.features !== undefined);
		assert.deepEqual(status.type === 'status' && status.hosts[0]?.features, features);
		assert.deepEqual(await late.next((m) => m.type === 'connections'), { ...snapshot('box'), type: 'connections' });
		assert.equal((await late.next((m) => m.type === 'processes')).type, 'processes');

		const metrics = await (await fetch(`${hub.url}/metrics`)).text();
		assert.match(metrics, /firesight_collector_drops\{host="box",counter="tcp\.ringBufferFull"\} 4\b/);
		assert.match(metrics, /firesight_collector_features\{host="box",feature="tls",state="failed"\} 1\b/);
		assert.match(metrics, /firesight_collector_features\{host="box",feature="tcp",state="running"\} 1\b/);
		assert.match(metrics, /firesight_hub_messages_rejected_total\{reason="host_mismatch"\} 2\b/);
		c.close();
		late.close();
	}));
