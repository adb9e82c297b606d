import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findNode, type FlameNode } from '@firesight/profile';
import type { ProfileWindow } from '@firesight/protocol';
import type { Storage } from '@firesight/store';
import { createCaller, type ApiContext } from './index.ts';
import { rangeCacheFor } from './range-cache.ts';
import { withTestApi } from './test-context.ts';

const T0 = 1_700_000_000_000;

/**
 * app: main → serve → (handler_0 … handler_99, 10 samples each) and main → gc (1000), plus
 * main → serve → handler_i → clear_page_erms (1 each): every handler is 1% of the profile, every
 * clear_page_erms a 0.05%, so a 2% pruning hides them all while the table still counts them.
 */
function window(startMs: number): ProfileWindow {
	const frames = [
		{ name: 'main', module: 'app', kind: 'user' as const },
		{ name: 'serve', module: 'app', kind: 'user' as const },
		{ name: 'gc', module: 'app', kind: 'user' as const },
		{ name: 'clear_page_erms', module: '[kernel.kallsyms]', kind: 'kernel' as const },
	];
	const samples: ProfileWindow['samples'][number][] = [{ pid: 7, comm: 'app', stack: [0, 2], weight: 1000 }];
	for (let i = 0; i < 100; i++) {
		const id = frames.push({ name: `handler_${i}`, module: 'app', kind: 'user' }) - 1;
		samples.push({ pid: 7, comm: 'app', stack: [0, 1, id], weight: 9 });
		samples.push({ pid: 7, comm: 'app', stack: [0, 1, id, 3], weight: 1 });
	}
	return { host: 'h1', startMs, durationMs: 10_000, frequencyHz: 100, frames, samples };
}

const withApi = (fn: (ctx: ApiContext, storage: Storage) => Promise<void>) =>
	withTestApi((storage) => storage.profiles.insertWindow(window(T0)), fn);

function sumWhere(node: FlameNode, keep: (n: FlameNode) => boolean): number {
	if (keep(node)) return node.value;
	return node.children.reduce((s, c) => s + sumWhere(c, keep), 0);
}

test('the table, the search and the graph agree: what the graph cannot draw is in remainder nodes', () =>
	withApi(async (ctx) => {
		const api = createCaller(ctx);
		const range = { fromMs: T0, toMs: T0 + 10_000 };
		const flame = await api.profile.flame({ ...range, minFraction: 0.02 });
		assert.equal(flame.totalSamples, 2000);
		const row = flame.topFunctions.find((r) => r.name === 'clear_page_erms');
		assert.equal(row?.total, 100, 'the table counts every sample');
		const search = await api.profile.search({ ...range, term: 'clear_page_erms' });
		assert.deepEqual([search.matched, search.total], [100, 2000], 'so does the search');
		assert.equal(
			sumWhere(flame.tree, (n) => n.name === 'clear_page_erms'),
			0,
			'the graph draws none of them',
		);
		const serve = findNode(flame.tree, ['app', 'main', 'serve'])!;
		assert.equal(serve.value, 1000);
		assert.deepEqual(
			serve.children.map((c) => [c.hidden, c.value]),
			[[100, 1000]],
			'one remainder per parent holds the 100 handlers (and their clear_page_erms)',
		);
		assert.equal(flame.hiddenSamples, 1000);
		assert.ok(flame.nodes <= 6, `${flame.nodes} nodes: all, app, main, gc, serve and the remainder`);
	}));

test('zooming asks for the subtree at full resolution, and the search counts within it', () =>
	withApi(async (ctx) => {
		const api = createCaller(ctx);
		const range = { fromMs: T0, toMs: T0 + 10_000 };
		const path = ['app', 'main', 'serve'];
		const sub = await api.profile.subtree({ ...range, path, minFraction: 0.005 });
		assert.equal(sub.totalSamples, 1000);
		assert.equal(sub.tree?.name, 'serve');
		// 0.5% of the subtree's 1000: every handler (10) is wide enough; clear_page_erms (1) is not.
		assert.equal(sub.tree?.children.filter((c) => c.hidden === undefined).length, 100);
		assert.equal(findNode(sub.tree!, ['handler_42'])?.value, 10);
		const exact = await api.profile.subtree({ ...range, path: [...path, 'handler_42'], minFraction: 0 });
		assert.equal(findNode(exact.tree!, ['clear_page_erms'])?.value, 1);

		const zoomed = await api.profile.search({ ...range, term: 'clear_page_erms', path });
		assert.deepEqual([zoomed.matched, zoomed.total, zoomed.path], [100, 1000, path], 'relative to the zoomed node');
		const missing = await api.profile.subtree({ ...range, path: ['app', 'nope'] });
		assert.deepEqual([missing.tree, missing.totalSamples], [null, 0]);
	}));

test('merged ranges are cached until a stored window changes what they cover', () =>
	withApi(async (ctx, storage) => {
		const api = createCaller(ctx);
		const range = { fromMs: T0, toMs: T0 + 30_000 };
		const first = await api.profile.flame(range);
		assert.equal(first.cached, false);
		const again = await api.profile.flame(range);
		assert.equal(again.cached, true);
		assert.deepEqual(again.tree, first.tree);
		const zoom = await api.profile.subtree({ ...range, path: ['app', 'main'] });
		assert.equal(zoom.cached, true, 'a zoom reuses the merge');
		const other = await api.profile.flame({ ...range, pid: 7 });
		assert.equal(other.cached, false, 'another filter is another entry');

		await storage.profiles.insertWindow(window(T0 + 10_000));
		const grown = await api.profile.flame(range);
		assert.equal(grown.cached, false, 'a new window invalidates');
		assert.equal(grown.totalSamples, 2 * first.totalSamples);
		assert.ok(rangeCacheFor(storage.profiles).stats.stale >= 1);
	}));
