import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import fc from 'fast-check';
import { appRouter } from '@firesight/api';
import { frameSchema, ingestCloseCodes, profileSampleSchema } from '@firesight/protocol';
import { profileWindow, userFrames } from '@firesight/testing/profile-windows';
import { TestCollector, withTestHub } from './hub-test-harness.ts';
import type { Hub } from './index.ts';

const TOKEN = 'fuzz-token';

function withHub(fn: (hub: Hub, logged: string[]) => Promise<void>): Promise<void> {
	const logged: string[] = [];
	return withTestHub({ token: TOKEN, log: (l) => logged.push(l) }, (hub) => fn(hub, logged));
}

const now = Date.now();
const valid = {
	hello: { type: 'hello', host: 'box', version: '1', frequencyHz: 99 },
	profile: {
		type: 'profile',
		window: profileWindow('box', now - 10_000, userFrames('app', 'main', 'work'), [{ pid: 7, comm: 'app', stack: [0, 1], weight: 5 }], {
			frequencyHz: 99,
		}),
	},
	live: {
		type: 'live',
		stats: {
			host: 'box',
			ts: now,
			frequencyHz: 99,
			processes: [{ pid: 7, comm: 'app', cmdline: './app', cpuPercent: 1, samplesPerSec: 1 }],
			drops: { x: 1 },
		},
	},
};

/** Values that break schemas: wrong types, out of range, huge, negative, fractional, deep. */
const nasty = fc.oneof(
	fc.jsonValue({ maxDepth: 3 }),
	fc.constantFrom(-1, 0, 0.5, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, 8.64e15 + 1, '', null, [], {}, true, 'x'.repeat(5000)),
	fc.string({ maxLength: 300 }),
);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The value with one field, anywhere in it, replaced by `replacement` or removed. */
function mutate(value: Json, path: number[], replacement: Json, remove: boolean): Json {
	if (path.length === 0 || value === null || typeof value !== 'object') return replacement;
	const entries: [string | number, Json][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
	if (entries.length === 0) return replacement;
	const [key, child] = entries[path[0]! % entries.length]!;
	const copy: Json = Array.isArray(value) ? [...value] : { ...value };
	if (remove && path.length === 1) {
		if (Array.isArray(copy)) copy.splice(key as number, 1);
		else delete (copy as Record<string, Json>)[key];
		return copy;
	}
	(copy as Record<string | number, Json>)[key] = mutate(child, path.slice(1), replacement, remove);
	return copy;
}

const mutated = fc
	.tuple(fc.constantFrom(...Object.values(valid)), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), nasty, fc.boolean())
	.map(([msg, path, replacement, remove]) => JSON.stringify(mutate(msg as Json, path, replacement as Json, remove)));

const frames = fc.oneof(
	{ weight: 6, arbitrary: mutated },
	{ weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
	{ weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
	{ weight: 1, arbitrary: fc.constantFrom(JSON.stringify(valid.hello), JSON.stringify(valid.profile), JSON.stringify(valid.live)) },
	{ weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
);

test('/ingest: thousands of mutated and random messages each get an ack or a clear error, and only valid windows are stored', () =>
	withHub(async (hub, logged) => {
		const c = await TestCollector.open(hub, TOKEN);
		// Before hello, data is refused.
		const early = await c.send(JSON.stringify(valid.profile));
		assert.equal(early.type === 'error' && early.code, 'not_hello');
		assert.equal((await c.send(JSON.stringify(valid.hello))).type, 'ack');

		await fc.assert(
			fc.asyncProperty(frames, async (frame) => {
				const reply = await c.send(frame);
				assert.ok(reply.type === 'ack' || reply.type === 'error', `unexpected reply ${JSON.stringify(reply)}`);
				if (reply.type === 'error') {
					assert.ok(reply.message.length > 0 && reply.message.length < 2000 && !reply.message.includes('\n    at '), reply.message);
				}
			}),
			{ numRuns: 2000 },
		);
		assert.deepEqual(
			logged.filter((l) => /unexpected|internal/i.test(l)),
			[],
		);

		// A second collector claiming a connected host is refused with a reason, and the first
		// goes on (it may have said hello for another host among the fuzz: say it again).
		const twin = await TestCollector.open(hub, TOKEN);
		assert.equal((await c.send(JSON.stringify(valid.hello))).type, 'ack');
		const refused = new Promise<[number, string]>((r) => twin.ws.once('close', (code, why) => r([code, why.toString()])));
		twin.ws.send(JSON.stringify(valid.hello));
		assert.deepEqual(await refused, [
			ingestCloseCodes.hostInUse,
			"host name 'box' is in use by another collector; give this one another --host",
		]);
		assert.equal((await c.send(JSON.stringify(valid.profile))).type, 'ack');

		// What was stored reads back whole and within every bound.
		const { profile, windows } = await hub.storage.profiles.query({ fromMs: 0, toMs: 8.64e15 });
		assert.ok(windows > 0, 'the valid windows among the fuzz were stored');
		for (const f of profile.frames) assert.ok(frameSchema.safeParse(f).success, JSON.stringify(f).slice(0, 200));
		for (const s of profile.samples) {
			assert.ok(profileSampleSchema.safeParse(s).success, JSON.stringify(s).slice(0, 200));
			assert.ok(s.stack.every((id) => id < profile.frames.length));
		}
		const health = await fetch(`${hub.url}/healthz`);
		assert.equal(health.status, 200);
		c.ws.close();
	}));

test('/ingest: a message over the size limit closes that connection only', () =>
	withHub(async (hub) => {
		const c = await TestCollector.open(hub, TOKEN);
		c.ws.send('x'.repeat(65 * 1024 * 1024));
		for (const deadline = Date.now() + 30_000; !c.closed;) {
			assert.ok(Date.now() < deadline, 'the oversized message did not close the connection');
			await new Promise((r) => setTimeout(r, 50));
		}
		const again = await TestCollector.open(hub, TOKEN);
		assert.equal((await again.send(JSON.stringify(valid.hello))).type, 'ack');
		again.ws.close();
	}));

function get(hub: Hub, path: string): Promise<{ status: number; body: string }> {
	return new Promise((resolve, reject) => {
		request(new URL(path, hub.url), (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (c: Buffer) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
		})
			.on('error', reject)
			.end();
	});
}

test('tRPC: random inputs to every query are refused with a 4xx, never a 500', () =>
	withHub(async (hub, logged) => {
		const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)
			.filter(([, p]) => p._def.type === 'query')
			.map(([name]) => name);
		assert.ok(procedures.length >= 3, `queries: ${procedures.join(', ')}`);
		const input = fc.oneof(
			fc.jsonValue({ maxDepth: 3 }),
			fc.record(
				{ fromMs: nasty, toMs: nasty, pid: nasty, host: nasty, comm: nasty, minFraction: nasty, limit: nasty },
				{ requiredKeys: [] },
			),
		);
		await fc.assert(
			fc.asyncProperty(fc.constantFrom(...procedures), input, fc.boolean(), async (name, value, raw) => {
				const query = raw
					? `input=${encodeURIComponent(String(JSON.stringify(value)).slice(0, 3000))}`
					: `input=${encodeURIComponent(JSON.stringify(value) ?? '')}`;
				const res = await get(hub, `/trpc/${name}?${query}`);
				assert.ok(res.status < 500, `${name}(${JSON.stringify(value)?.slice(0, 200)}) → ${res.status} ${res.body.slice(0, 300)}`);
			}),
			{ numRuns: 1000 },
		);
		assert.deepEqual(
			logged.filter((l) => l.startsWith('trpc ')),
			[],
		);
		assert.equal((await get(hub, '/healthz')).status, 200);
	}));
