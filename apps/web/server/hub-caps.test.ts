import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { limits } from '@firesight/protocol';
import { TestCollector, withTestHub, wsUrl } from './hub-test-harness.ts';
import type { Hub, HubOptions } from './index.ts';

/**
 * Every bound of the hub, driven one past its limit: what goes over is refused or dropped, and
 * counted where /metrics shows it, never lost without a trace. Bounds of the store, the
 * collector and the protocol's repair have their own tests beside them.
 */
const TOKEN = 'caps-test-token';

const withHub = (extra: Partial<HubOptions>, fn: (hub: Hub) => Promise<void>) => withTestHub({ token: TOKEN, ...extra }, fn);

async function metric(hub: Hub, pattern: RegExp): Promise<number> {
	const text = await (await fetch(`${hub.url}/metrics`)).text();
	const m = pattern.exec(text);
	return m ? Number(m[1]) : 0;
}

/** Waits for a condition with a generous deadline: the hub answers asynchronously. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
	const deadline = Date.now() + 60_000;
	while (!(await check())) {
		assert.ok(Date.now() < deadline, `not within 60 s: ${what}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

/** A collector connection, its hello acknowledged. */
async function collector(hub: Hub): Promise<TestCollector> {
	const c = await TestCollector.open(hub, TOKEN);
	assert.equal((await c.send(JSON.stringify({ type: 'hello', host: 'box', version: 'test', frequencyHz: 99 }))).type, 'ack');
	return c;
}

const T0 = Date.now() - 60_000;
const frame = (i: number) => ({ name: `f${i}`, module: 'app', kind: 'user' });
const profile = (window: Record<string, unknown>) =>
	JSON.stringify({
		type: 'profile',
		window: { host: 'box', startMs: T0, durationMs: 10_000, frequencyHz: 99, frames: [frame(0)], samples: [], ...window },
	});
const live = (stats: Record<string, unknown>) =>
	JSON.stringify({ type: 'live', stats: { host: 'box', ts: T0, frequencyHz: 99, processes: [], drops: {}, ...stats } });
const row = (pid: number) => ({ pid, comm: 'x', cmdline: '', cpuPercent: 0, samplesPerSec: 0 });
const counters = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`c.${i}`, i]));

test('wire limits: one past each bound is refused or repaired, counted on /metrics; at the bound it is accepted', async () => {
	await withHub({}, async (hub) => {
		const c = await collector(hub);
		const rejected = () => metric(hub, /^firesight_hub_messages_rejected_total\{reason="invalid"\} (\d+)/m);
		const cases: { name: string; at?: string; over: string }[] = [
			{
				name: 'dropCounters',
				at: live({ drops: counters(limits.dropCounters) }),
				over: live({ drops: counters(limits.dropCounters + 1) }),
			},
			{
				name: 'features',
				at: live({ features: { running: Array.from({ length: limits.features }, (_, i) => `f${i}`), failed: [] } }),
				over: live({ features: { running: Array.from({ length: limits.features + 1 }, (_, i) => `f${i}`), failed: [] } }),
			},
			{
				name: 'processesPerSnapshot',
				over: live({ processes: Array.from({ length: limits.processesPerSnapshot + 1 }, (_, i) => row(i + 1)) }),
			},
			{ name: 'shortString (host)', over: live({ host: 'h'.repeat(limits.shortString + 1) }) },
			{ name: 'maxWindowMs', at: profile({ durationMs: limits.maxWindowMs }), over: profile({ durationMs: limits.maxWindowMs + 1 }) },
			{ name: 'framesPerWindow', over: profile({ frames: Array.from({ length: limits.framesPerWindow + 1 }, (_, i) => frame(i)) }) },
			{
				name: 'stacksPerWindow',
				over: profile({
					samples: Array.from({ length: limits.stacksPerWindow + 1 }, (_, i) => ({
						pid: 1 + (i % 1000),
						comm: 'x',
						stack: [0],
						weight: 1,
					})),
				}),
			},
		];
		for (const k of cases) {
			if (k.at) assert.equal((await c.send(k.at)).type, 'ack', `${k.name}: at the bound`);
			const before = await rejected();
			const reply = await c.send(k.over);
			assert.equal(reply.type, 'error', `${k.name}: one past the bound`);
			assert.equal(await rejected(), before + 1, `${k.name}: counted`);
		}

		// A stack one frame deeper than the bound costs that stack, counted, not the window.
		const deep = profile({
			startMs: T0 + 10_000,
			samples: [
				{ pid: 1, comm: 'x', stack: Array.from({ length: limits.stackDepth + 1 }, () => 0), weight: 1 },
				{ pid: 1, comm: 'x', stack: Array.from({ length: limits.stackDepth }, () => 0), weight: 1 },
			],
		});
		assert.equal((await c.send(deep)).type, 'ack');
		assert.equal(await metric(hub, /^firesight_hub_window_repairs_total\{reason="stack_dropped"\} (\d+)/m), 1);

		// A frame past maxMessageBytes never reaches the parser: ws closes the connection, and it is counted.
		c.ws.send(Buffer.alloc(limits.maxMessageBytes + 1, 32).toString());
		assert.equal(await c.closeCode, 1009);
		await eventually(
			'the oversized message counted',
			async () => (await metric(hub, /^firesight_hub_messages_rejected_total\{reason="protocol"\} (\d+)/m)) === 1,
		);
	});
});

test('a browser that stops reading /live is dropped past its buffer bound, and counted', async () => {
	await withHub({ maxBrowserBufferBytes: 64 * 1024 }, async (hub) => {
		const ws = new WebSocket(wsUrl(hub, '/live'));
		await new Promise<void>((resolve, reject) => {
			ws.once('open', () => resolve());
			ws.once('error', reject);
		});
		// Stops reading: the kernel buffers fill, then the hub's own buffer grows past its bound.
		(ws as unknown as { _socket: { pause(): void } })._socket.pause();
		const big = 'x'.repeat(256 * 1024);
		await eventually('the slow browser dropped', async () => {
			hub.state.publish({ type: 'window', host: big, startMs: 0, durationMs: 0 });
			return (await metric(hub, /^firesight_hub_browsers_dropped_total (\d+)/m)) === 1;
		});
		ws.terminate();
	});
});

test('tRPC budgets: a batch, a body and a queue past their bounds are refused and counted by reason', async () => {
	await withHub({ apiBudget: { maxBatchSize: 2, maxBodyBytes: 1024 } }, async (hub) => {
		const batch = (n: number) => `${hub.url}/trpc/${Array.from({ length: n }, () => 'hosts.list').join(',')}?batch=1&input=%7B%7D`;
		assert.equal((await fetch(batch(2))).status, 200, 'at the bound');
		assert.notEqual((await fetch(batch(3))).status, 200, 'one past the bound');
		assert.equal(await metric(hub, /^firesight_hub_api_refused_total\{reason="batch"\} (\d+)/m), 1);
		const body = await fetch(`${hub.url}/trpc/shares.delete`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: 'x'.repeat(1025),
		});
		assert.equal(body.status, 413);
		assert.equal(await metric(hub, /^firesight_hub_api_refused_total\{reason="body"\} (\d+)/m), 1);
	});
	await withHub({ apiBudget: { concurrent: 0, queued: 0 } }, async (hub) => {
		assert.equal((await fetch(`${hub.url}/trpc/hosts.list`)).status, 503);
		assert.equal(await metric(hub, /^firesight_hub_api_refused_total\{reason="busy"\} (\d+)/m), 1);
	});
});

test("the store's caches past their budget start over, counted on /metrics, and the stored profile is whole", async () => {
	await withHub({ storage: { backend: 'sqlite', path: ':memory:', profileCacheBudget: 50 } }, async (hub) => {
		const resets = () => metric(hub, /^firesight_hub_store_cache_resets_total (\d+)/m);
		assert.equal(await resets(), 0);
		const c = await collector(hub);
		// Each window's 20 stacks of 3 frames are all new, as unnamed frames make them.
		const windows = 6;
		for (let w = 0; w < windows; w++) {
			const frames = Array.from({ length: 60 }, (_, i) => ({ name: `app+0x${(w * 60 + i).toString(16)}`, module: 'app', kind: 'user' }));
			const samples = Array.from({ length: 20 }, (_, s) => ({ pid: 1, comm: 'x', stack: [3 * s, 3 * s + 1, 3 * s + 2], weight: 1 }));
			assert.equal((await c.send(profile({ startMs: T0 + w * 10_000, frames, samples }))).type, 'ack');
		}
		assert.ok((await resets()) >= windows - 1, `${await resets()} resets on /metrics`);
		const merged = await hub.storage.profiles.query({ fromMs: T0, toMs: T0 + windows * 10_000 });
		assert.equal(merged.profile.samples.length, windows * 20);
	});
});
