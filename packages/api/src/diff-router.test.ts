import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TRPCError } from '@trpc/server';
import type { DiffNode } from '@firesight/profile';
import type { ProfileWindow } from '@firesight/protocol';
import { profileWindow, userFrames } from '@firesight/testing/profile-windows';
import { apiCodeOf, createCaller, PUBLIC_SHARE_PROCEDURES, topDiffRows, type ApiContext } from './index.ts';
import { withTestApi } from './test-context.ts';

const T0 = 1_700_000_000_000;

/** main;hot `hot` times, main;cold 10 times, and main;only_<host> 5 times. */
const window = (host: string, hot: number): ProfileWindow =>
	profileWindow(host, T0, userFrames('app', 'main', 'hot', 'cold', `only_${host}`), [
		{ pid: 7, comm: 'app', stack: [0, 1], weight: hot },
		{ pid: 7, comm: 'app', stack: [0, 2], weight: 10 },
		{ pid: 7, comm: 'app', stack: [0, 3], weight: 5 },
	]);

const withApi = (fn: (ctx: ApiContext) => Promise<void>) =>
	withTestApi(async (storage) => {
		// Baseline h1: hot 5 of 20 (25%). Comparison h2: hot 25 of 40 (62.5%).
		await storage.profiles.insertWindow(window('h1', 5));
		await storage.profiles.insertWindow(window('h2', 25));
	}, fn);

function at(node: DiffNode, ...path: string[]): DiffNode {
	for (const name of path) {
		const next = node.children.find((c) => c.name === name);
		assert.ok(next, `${node.name} has no child ${name}`);
		node = next;
	}
	return node;
}

const range = { fromMs: T0, toMs: T0 + 10_000 };

test('a diff of two hosts: both sides per node, one-side frames kept, regressions first in the table', () =>
	withApi(async (ctx) => {
		const api = createCaller(ctx);
		const result = await api.diff.flame({
			baseline: { query: { ...range, host: 'h1' } },
			comparison: { query: { ...range, host: 'h2' } },
			minFraction: 0,
		});
		assert.deepEqual([result.baselineTotal, result.comparisonTotal], [20, 40]);
		const hot = at(result.tree, 'app', 'main', 'hot');
		assert.deepEqual([hot.baseline, hot.comparison], [5, 25]);
		assert.deepEqual([at(result.tree, 'app', 'main', 'only_h1').comparison, at(result.tree, 'app', 'main', 'only_h2').baseline], [0, 0]);
		assert.equal(result.baseline.kind, 'query');
		const top = [...result.functions].sort((a, b) => b.selfDelta - a.selfDelta);
		assert.equal(top[0]?.name, 'hot');
		assert.equal(top[0]?.selfDelta, 25 / 40 - 5 / 20);
		// cold fell from 50% to 25%, only_h1 from 25% to nothing: both lost a quarter.
		assert.deepEqual(
			top
				.slice(-2)
				.map((r) => [r.name, r.selfDelta])
				.sort(),
			[
				['cold', -0.25],
				['only_h1', -0.25],
			],
		);
	}));

test('a diff of two shares holds both snapshots and is public; unknown ids are NOT_FOUND', () =>
	withApi(async (ctx) => {
		const api = createCaller(ctx);
		const a = await api.shares.create({ ...range, host: 'h1' });
		const b = await api.shares.create({ ...range, host: 'h2' });
		// Data arriving later does not change a diff of shares.
		await ctx.storage.profiles.insertWindow({ ...window('h2', 1000), startMs: T0 + 1000 });
		const result = await api.diff.shares({ baseline: { share: a.id }, comparison: { share: b.id }, minFraction: 0 });
		assert.deepEqual([result.baselineTotal, result.comparisonTotal], [20, 40]);
		assert.equal(result.comparison.kind === 'share' && result.comparison.share.id, b.id);
		assert.ok(PUBLIC_SHARE_PROCEDURES.includes('diff.shares'));
		assert.ok(!PUBLIC_SHARE_PROCEDURES.includes('diff.flame'), 'a diff of queries needs a login');
		await assert.rejects(
			api.diff.shares({ baseline: { share: a.id }, comparison: { share: 'AAAAAAAAAAAAAAAAAAAAAA' } }),
			(err: TRPCError) => apiCodeOf(err) === 'NOT_FOUND' && /comparison/.test(err.message),
		);
	}));

test('the sandwich of a function in a query and in a share', () =>
	withApi(async (ctx) => {
		const api = createCaller(ctx);
		const live = await api.sandwich.query({ ...range, host: 'h2', name: 'hot' });
		assert.deepEqual([live.total, live.self, live.profileTotal], [25, 25, 40]);
		assert.deepEqual(
			live.callers.children.map((c) => [c.name, c.value]),
			[['main', 25]],
		);
		const share = await api.shares.create({ ...range });
		const shared = await api.sandwich.share({ id: share.id, name: 'main' });
		assert.deepEqual([shared.total, shared.self], [60, 0]);
		assert.deepEqual(
			shared.callees.children.map((c) => [c.name, c.value]),
			[
				['cold', 20],
				['hot', 30],
				['only_h1', 5],
				['only_h2', 5],
			],
		);
		await assert.rejects(api.sandwich.share({ id: share.id, name: 'nowhere' }), (err: TRPCError) => apiCodeOf(err) === 'NOT_FOUND');
	}));

test('the table rows are the largest growths and shrinks by self and by total, each once', () => {
	const row = (name: string, selfDelta: number, totalDelta: number) => ({
		name,
		module: 'app',
		kind: 'user' as const,
		baselineSelf: 0,
		comparisonSelf: 0,
		baselineTotal: 0,
		comparisonTotal: 0,
		selfDelta,
		totalDelta,
	});
	const rows = [
		row('self_up', 0.5, 0),
		row('self_down', -0.5, 0),
		row('total_up', 0, 0.4),
		row('total_down', 0.01, -0.4),
		row('both_up', 0.3, 0.3),
		row('quiet_a', 0.001, 0.001),
		row('quiet_b', -0.001, -0.001),
	];
	assert.deepEqual(
		topDiffRows(rows, 1)
			.map((r) => r.name)
			.sort(),
		['self_down', 'self_up', 'total_down', 'total_up'],
	);
	assert.deepEqual(
		topDiffRows(rows, 2)
			.map((r) => r.name)
			.sort(),
		['both_up', 'quiet_b', 'self_down', 'self_up', 'total_down', 'total_up'],
	);
	assert.equal(topDiffRows(rows, 100).length, rows.length, 'no row twice');
	assert.deepEqual(topDiffRows(rows, 0), []);
});
