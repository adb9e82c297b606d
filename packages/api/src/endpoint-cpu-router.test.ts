import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromPprof, type FlameNode } from '@firesight/profile';
import type { ProfileWindow } from '@firesight/protocol';
import { openStorage } from '@firesight/store';
import { createCaller, profileExport, type ApiContext } from './index.ts';

const T0 = 1_700_000_000_000;
const USERS = 'GET /api/users/:id';
const ORDERS = 'POST /api/orders';

function window(startMs: number): ProfileWindow {
	return {
		host: 'h1',
		startMs,
		durationMs: 10_000,
		frequencyHz: 100,
		frames: [
			{ name: 'main', module: 'server', kind: 'user' },
			{ name: 'getUser', module: 'server', kind: 'user' },
			{ name: 'createOrder', module: 'server', kind: 'user' },
			{ name: 'gc', module: 'server', kind: 'user' },
		],
		samples: [
			{ pid: 7, comm: 'server', stack: [0, 1], weight: 30, endpoint: USERS },
			{ pid: 7, comm: 'server', stack: [0, 1], weight: 10, endpoint: USERS, requestId: 'b:1' },
			{ pid: 7, comm: 'server', stack: [0, 2], weight: 20, endpoint: ORDERS, ambiguous: true },
			{ pid: 7, comm: 'server', stack: [0, 3], weight: 40 },
			{ pid: 8, comm: 'other', stack: [0, 1], weight: 100, endpoint: USERS },
		],
	};
}

async function withApi(fn: (ctx: ApiContext) => Promise<void>): Promise<void> {
	const storage = await openStorage({ backend: 'sqlite', path: ':memory:', pruneIntervalMs: 0 });
	try {
		await storage.profiles.insertWindow(window(T0));
		await fn({ storage, live: { hosts: () => [], processes: () => [] } });
	} finally {
		await storage.close();
	}
}

const names = (node: FlameNode): string[] => [node.name, ...node.children.flatMap(names)];
const range = { fromMs: T0, toMs: T0 + 10_000 };

test('profile.endpoint: the samples attributed to an endpoint, and their share of the process', () =>
	withApi(async (ctx) => {
		const api = createCaller(ctx);
		const users = await api.profile.endpoint({ ...range, pid: 7, endpoint: USERS });
		assert.equal(users.flame.totalSamples, 40);
		assert.equal(users.processSamples, 100);
		assert.equal(users.share, 0.4);
		assert.equal(users.ambiguousSamples, 0);
		assert.ok(names(users.flame.tree).includes('getUser'));
		assert.ok(!names(users.flame.tree).includes('gc'));
		const orders = await api.profile.endpoint({ ...range, pid: 7, endpoint: ORDERS });
		assert.deepEqual([orders.flame.totalSamples, orders.ambiguousSamples, orders.share], [20, 20, 0.2]);
		// "CPU during this request": only that request's samples.
		const request = await api.profile.endpoint({ ...range, pid: 7, requestId: 'b:1' });
		assert.deepEqual([request.flame.totalSamples, request.share], [10, 0.1]);
		// Without a pid, the share is of every process in scope.
		const everyone = await api.profile.endpoint({ ...range, endpoint: USERS });
		assert.deepEqual([everyone.flame.totalSamples, everyone.processSamples], [140, 200]);
		const command = await api.profile.endpoint({ ...range, comm: 'server', endpoint: USERS });
		assert.deepEqual([command.flame.totalSamples, command.processSamples], [40, 100]);
		const none = await api.profile.endpoint({ ...range, pid: 99, endpoint: USERS });
		assert.deepEqual([none.flame.totalSamples, none.share], [0, null]);
		await assert.rejects(api.profile.endpoint({ ...range, pid: 7 }), /give an endpoint or a requestId/);
	}));

test('profile.endpoint for a request whose samples were ambiguous: its own samples, and its thread during its lifetime', () =>
	withApi(async (ctx) => {
		// Request b:5 ran alone for 6 samples, then with others open: 4 stamped b:5, 3 stamped
		// with a request that started and ended inside it, 2 stamped with one that outlived it.
		await ctx.storage.profiles.insertWindow({
			...window(T0 + 1000),
			samples: [
				{ pid: 7, comm: 'server', stack: [0, 1], weight: 6, endpoint: USERS, requestId: 'b:5' },
				{ pid: 7, comm: 'server', stack: [0, 1], weight: 4, endpoint: USERS, requestId: 'b:5', ambiguous: true },
				{ pid: 7, comm: 'server', stack: [0, 2], weight: 3, endpoint: ORDERS, requestId: 'b:5', ambiguous: true },
				{ pid: 7, comm: 'server', stack: [0, 2], weight: 2, endpoint: ORDERS, requestId: 'b:5+ b:6', ambiguous: true },
				{ pid: 7, comm: 'server', stack: [0, 2], weight: 9, endpoint: ORDERS, requestId: 'b:6', ambiguous: true },
			],
		});
		const api = createCaller(ctx);
		const during = await api.profile.endpoint({ ...range, pid: 7, requestId: 'b:5' });
		assert.equal(during.flame.totalSamples, 6 + 4 + 3 + 2);
		assert.deepEqual(during.request, { exactSamples: 6, lifetimeSamples: 9, mayBeAfterSamples: 2 });
		assert.equal(during.ambiguousSamples, 9);
		assert.ok(names(during.flame.tree).includes('createOrder'), 'the other requests’ code that ran during it');
		// Its own samples alone, beside: the same split, a graph of its own code only.
		const own = await api.profile.endpoint({ ...range, pid: 7, requestId: 'b:5', ownOnly: true });
		assert.deepEqual([own.flame.totalSamples, own.ambiguousSamples], [6, 0]);
		assert.deepEqual(own.request, during.request);
		assert.ok(!names(own.flame.tree).includes('createOrder'));
		const other = await api.profile.endpoint({ ...range, pid: 7, requestId: 'b:6' });
		assert.deepEqual(other.request, { exactSamples: 0, lifetimeSamples: 11, mayBeAfterSamples: 0 });
		// An endpoint query has no request part.
		assert.equal((await api.profile.endpoint({ ...range, pid: 7, endpoint: USERS })).request, undefined);
	}));

test('profile.flame filters by endpoint and requestId, and groups by endpoint', () =>
	withApi(async (ctx) => {
		const api = createCaller(ctx);
		assert.equal((await api.profile.flame({ ...range, endpoint: USERS })).totalSamples, 140);
		assert.equal((await api.profile.flame({ ...range, endpoint: USERS, pid: 7 })).totalSamples, 40);
		assert.equal((await api.profile.flame({ ...range, requestId: 'b:1' })).totalSamples, 10);
		assert.equal(
			(await api.profile.timeline({ ...range, endpoint: ORDERS })).samples.reduce((a, b) => a + b, 0),
			20,
		);
		const grouped = await api.profile.flame({ ...range, pid: 7, groupByEndpoint: true, minFraction: 0 });
		const server = grouped.tree.children.find((c) => c.name === 'server')!;
		assert.deepEqual(Object.fromEntries(server.children.map((c) => [c.name, c.value])), {
			[USERS]: 40,
			[`${ORDERS} (ambiguous)`]: 20,
			'(no request)': 40,
		});
		// The diff compares two endpoints: each side is a query with its own filter.
		const diff = await api.diff.flame({
			baseline: { query: { ...range, pid: 7, endpoint: USERS } },
			comparison: { query: { ...range, pid: 7, endpoint: ORDERS } },
		});
		assert.deepEqual([diff.baselineTotal, diff.comparisonTotal], [40, 20]);
	}));

test('the pprof download takes endpoint= and request=, and its samples carry the endpoint label', () =>
	withApi(async (ctx) => {
		const params = new URLSearchParams({ from: String(range.fromMs), to: String(range.toMs), endpoint: USERS, pid: '7' });
		const exported = await profileExport(ctx, params);
		assert.equal(exported.totalSamples, 40);
		const back = fromPprof(exported.body)!;
		assert.ok(back.samples.length > 0 && back.samples.every((s) => s.endpoint === USERS));
		params.delete('endpoint');
		params.set('request', 'b:1');
		assert.equal((await profileExport(ctx, params)).totalSamples, 10);
	}));

test('a share made from an endpoint query holds only that endpoint samples', () =>
	withApi(async (ctx) => {
		const api = createCaller(ctx);
		const share = await api.shares.create({ ...range, pid: 7, endpoint: ORDERS });
		const stored = await ctx.storage.shares.get(share.id);
		assert.ok(stored);
		assert.equal(stored.totalSamples, 20);
		assert.ok(stored.profile.samples.every((s) => s.endpoint === ORDERS));
	}));
