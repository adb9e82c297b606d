import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { toFolded, toPprof, totalWeight } from '@firesight/profile';
import type { ProfileWindow } from '@firesight/protocol';
import { profileWindow, userFrames } from '@firesight/testing/profile-windows';
import { withTestHub } from './hub-test-harness.ts';
import type { Hub, HubOptions } from './index.ts';

const TOKEN = 'share-test-token';
const T0 = 1_700_000_000_000;
const AUTH = { authorization: `Bearer ${TOKEN}` };

const window = (startMs: number): ProfileWindow =>
	profileWindow('h1', startMs, userFrames('app', 'main', 'hot_function', 'cold_function'), [
		{ pid: 7, comm: 'app', stack: [0, 1], weight: 90 },
		{ pid: 7, comm: 'app', stack: [0, 2], weight: 10 },
	]);

function withHub(extra: Partial<HubOptions>, fn: (hub: Hub) => Promise<void>): Promise<void> {
	// auth on: share reads must work without it, and nothing else may.
	return withTestHub({ token: TOKEN, auth: true, ...extra }, async (hub) => {
		await hub.storage.profiles.insertWindow(window(T0));
		await fn(hub);
	});
}

function trpcGet(hub: Hub, procedures: string[], inputs: unknown[], headers: Record<string, string> = {}): Promise<Response> {
	const input = Object.fromEntries(inputs.map((v, i) => [i, v]));
	return fetch(`${hub.url}/trpc/${procedures.join(',')}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`, { headers });
}

async function importFile(hub: Hub, body: Uint8Array, name = 'file'): Promise<Response> {
	return fetch(`${hub.url}/api/import?name=${encodeURIComponent(name)}`, { method: 'POST', headers: AUTH, body: Buffer.from(body) });
}

async function shareCount(hub: Hub): Promise<number> {
	return (await hub.storage.shares.list()).length;
}

test('share reads need no login; everything else still does', () =>
	withHub({}, async (hub) => {
		const made = await (
			await importFile(hub, toPprof((await hub.storage.profiles.query({ fromMs: T0, toMs: T0 + 10_000 })).profile), 'x.pb.gz')
		).json();
		assert.match(made.id, /^[A-Za-z0-9_-]{22}$/);
		assert.equal(made.path, `/s/${made.id}`);

		const flame = await trpcGet(hub, ['shares.get', 'shares.flame'], [{ id: made.id }, { id: made.id }]);
		assert.equal(flame.status, 200);
		const [get, drawn] = (await flame.json()) as [{ result: { data: { id: string } } }, { result: { data: { totalSamples: number } } }];
		assert.equal(get.result.data.id, made.id);
		assert.equal(drawn.result.data.totalSamples, 100);
		const pprof = await fetch(`${hub.url}/api/pprof?share=${made.id}`);
		assert.equal(pprof.status, 200);
		const folded = await fetch(`${hub.url}/api/pprof?share=${made.id}&format=folded`);
		assert.equal(await folded.text(), 'app;main;cold_function 10\napp;main;hot_function 90\n');
		assert.equal((await fetch(`${hub.url}/api/pprof?share=AAAAAAAAAAAAAAAAAAAAAA`)).status, 404);
		assert.equal((await trpcGet(hub, ['shares.get'], [{ id: 'AAAAAAAAAAAAAAAAAAAAAA' }])).status, 404);
		// A malformed escape is no share and no server error, with or without a login.
		for (const headers of [{}, AUTH]) {
			assert.equal((await fetch(`${hub.url}/s/%E0%A4%A`, { headers })).status, 404);
			assert.equal((await fetch(`${hub.url}/trpc/shares.get%E0%A4%A`, { headers })).status < 500, true);
		}

		// Not public: other procedures, a batch that mixes one in, listing and deleting shares, ranges, imports.
		for (const procs of [['shares.list'], ['shares.get', 'profile.flame'], ['profile.flame'], ['hosts.list']]) {
			const res = await trpcGet(
				hub,
				procs,
				procs.map(() => ({ id: made.id, fromMs: T0, toMs: T0 + 1 })),
			);
			assert.equal(res.status, 401, procs.join(','));
		}
		const del = await fetch(`${hub.url}/trpc/shares.delete`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ id: made.id }),
		});
		assert.equal(del.status, 401);
		assert.equal((await fetch(`${hub.url}/api/pprof?from=${T0}&to=${T0 + 10_000}`)).status, 401);
		assert.equal((await fetch(`${hub.url}/api/pprof?share=${made.id}&from=${T0}&to=${T0 + 10_000}`)).status, 401);
		assert.equal((await fetch(`${hub.url}/api/import`, { method: 'POST', body: 'app;main 1\n' })).status, 401);
		assert.equal(await shareCount(hub), 1);
	}));

/** shares.create over tRPC, as the Share button sends it; returns the stored share's creator. */
async function madeBy(hub: Hub, headers: Record<string, string>, extra: object = {}): Promise<string | null> {
	const res = await fetch(`${hub.url}/trpc/shares.create`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', ...headers },
		body: JSON.stringify({ fromMs: T0, toMs: T0 + 10_000, ...extra }),
	});
	assert.equal(res.status, 200, await res.clone().text());
	const { id } = ((await res.json()) as { result: { data: { id: string } } }).result.data;
	return (await hub.storage.shares.get(id))!.creator;
}

test('a share records who made it: how the caller got in, or the name the CLI sends', async () => {
	await withHub({}, async (hub) => {
		assert.equal(await madeBy(hub, AUTH), 'a holder of the hub token');
		const login = await fetch(`${hub.url}/api/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			body: `token=${TOKEN}&next=/`,
			redirect: 'manual',
		});
		const cookie = /^[^;]+/.exec(login.headers.get('set-cookie') ?? '')?.[0];
		assert.ok(cookie, 'a session cookie');
		assert.equal(await madeBy(hub, { cookie }), 'a signed-in browser');
		assert.equal(await madeBy(hub, AUTH, { creator: 'ana@laptop' }), 'ana@laptop');
		const imported = await (await importFile(hub, Buffer.from('app;main 3\n'))).json();
		assert.equal((await hub.storage.shares.get(imported.id))!.creator, 'a holder of the hub token');
	});
	await withHub({ auth: false }, async (hub) => {
		assert.equal(await madeBy(hub, {}), 'anonymous on loopback');
	});
});

test("imports: every format becomes a share; too large is 413; the limit is the hub's to set", () =>
	withHub({ importLimits: { maxBytes: 1024 * 1024 } }, async (hub) => {
		const profile = (await hub.storage.profiles.query({ fromMs: T0, toMs: T0 + 10_000 })).profile;
		for (const body of [toPprof(profile), Buffer.from(toFolded(profile)), gzipSync(toFolded(profile))]) {
			const res = await importFile(hub, body);
			assert.equal(res.status, 201);
			assert.equal((await res.json()).totalSamples, totalWeight(profile));
		}
		const big = await importFile(hub, Buffer.alloc(2 * 1024 * 1024, 'a'));
		assert.equal(big.status, 413);
		assert.equal(await big.text(), 'the file is larger than 1048576 bytes, the import limit\n');
		const bomb = await importFile(hub, gzipSync(Buffer.alloc(100 * 1024 * 1024)));
		assert.equal(bomb.status, 413);
		assert.match(await bomb.text(), /^the file inflates to more than 64 MiB, the import limit\n$/);
		assert.equal(await shareCount(hub), 3);
		const metrics = await (await fetch(`${hub.url}/metrics`, { headers: AUTH })).text();
		assert.match(metrics, /firesight_hub_imports_total\{result="too_large"\} 2/);
	}));

test(
	'fuzz: 1,200 mutated and truncated files through POST /api/import are each a 4xx with one line, and nothing is stored',
	{ timeout: 600_000 },
	() =>
		withHub({}, async (hub) => {
			const profile = (await hub.storage.profiles.query({ fromMs: T0, toMs: T0 + 10_000 })).profile;
			const pprofGz = Buffer.from(toPprof(profile));
			const pprofRaw = gunzipSync(pprofGz);
			const folded = Buffer.from(toFolded(profile));
			const cpuprofile = Buffer.from(
				JSON.stringify({
					nodes: [
						{ id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2] },
						{ id: 2, callFrame: { functionName: 'hot', url: 'file:///a.js', lineNumber: 3 }, children: [] },
					],
					samples: [2, 2, 2],
					timeDeltas: [1000, 1000, 1000],
					startTime: 0,
					endTime: 3000,
				}),
			);
			const seeds = [pprofGz, pprofRaw, folded, cpuprofile];
			const before = await shareCount(hub);
			let stored = 0;
			const mutation = fc.record({
				seed: fc.integer({ min: 0, max: seeds.length - 1 }),
				// A cut somewhere, then bytes overwritten: gzip and JSON reject most, protobuf and text some.
				cut: fc.double({ min: 0, max: 1, noNaN: true }),
				writes: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 })), {
					minLength: 1,
					maxLength: 8,
				}),
			});
			await fc.assert(
				fc.asyncProperty(mutation, async ({ seed, cut, writes }) => {
					const base = seeds[seed]!;
					const bytes = Buffer.from(base.subarray(0, Math.floor(cut * base.length)));
					for (const [at, value] of writes) if (bytes.length > 0) bytes[Math.floor(at * bytes.length) % bytes.length] = value;
					const res = await importFile(hub, bytes, 'fuzz');
					const body = await res.text();
					if (res.status === 201) {
						// A mutation can leave a valid profile (a count changed, a name renamed): stored, then removed.
						stored++;
						await hub.storage.shares.delete((JSON.parse(body) as { id: string }).id);
						return;
					}
					assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}: ${body}`);
					assert.match(body, /^[^\n]+\n$/, 'one line');
					assert.doesNotMatch(body, /\bat .*\.ts:\d+/, 'no stack trace');
				}),
				{ numRuns: 1200 },
			);
			assert.equal(await shareCount(hub), before);
			assert.ok(stored < 1200 / 2, `${stored} of 1200 mutations were still profiles`);
			assert.equal((await fetch(`${hub.url}/healthz`)).status, 200);
		}),
);
