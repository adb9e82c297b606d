import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TRPCError } from '@trpc/server';
import { fromPprof } from '@firesight/profile';
import type { ProfileWindow } from '@firesight/protocol';
import { profileWindow, userFrames } from '@firesight/testing/profile-windows';
import { apiCodeOf, createCaller, profileExport, type ApiContext, type LiveView } from './index.ts';
import { findByName, withTestApi } from './test-context.ts';

const T0 = 1_700_000_000_000;

const window = (startMs: number, hot: number, cold: number): ProfileWindow =>
	profileWindow('h1', startMs, userFrames('app', 'main', 'hot', 'cold'), [
		{ pid: 7, comm: 'app', stack: [0, 1], weight: hot },
		{ pid: 7, comm: 'app', stack: [0, 2], weight: cold },
		{ pid: 8, comm: 'sh', stack: [0], weight: 1 },
	]);

const live: LiveView = {
	hosts: () => [{ host: 'h1', connected: true, lastSeenMs: T0, frequencyHz: 100, drops: { queue_full: 1 } }],
	processes: (host) =>
		host && host !== 'h1'
			? []
			: [{ type: 'processes', host: 'h1', ts: T0, rows: [{ pid: 9, comm: 'live', cmdline: 'live --x', cpuPercent: 5, samplesPerSec: 5 }] }],
};

const withApi = (fn: (ctx: ApiContext) => Promise<void>) =>
	withTestApi(
		async (storage) => {
			await storage.profiles.insertWindow(window(T0, 990, 9));
			await storage.profiles.insertWindow(window(T0 + 10_000, 1000, 0));
		},
		fn,
		live,
	);

test('profile.flame merges windows, prunes narrow nodes and ranks functions', () =>
	withApi(async (ctx) => {
		const api = createCaller(ctx);
		const full = await api.profile.flame({ fromMs: T0, toMs: T0 + 20_000, minFraction: 0 });
		assert.equal(full.totalSamples, 990 + 9 + 1 + 1000 + 0 + 1);
		assert.equal(full.windows, 2);
		assert.equal(full.tree.value, full.totalSamples);
		assert.equal(findByName(full.tree, 'hot')?.value, 1990);
		assert.equal(findByName(full.tree, 'cold')?.value, 9);
		assert.equal(full.prunedNodes, 0);
		assert.equal(full.topFunctions[0]?.name, 'hot');

		// cold (9 of 2001) and the sh process (2 of 2001) fall under 1%.
		const pruned = await api.profile.flame({ fromMs: T0, toMs: T0 + 20_000, minFraction: 0.01 });
		assert.equal(findByName(pruned.tree, 'cold'), undefined);
		// Counted where they are cut: cold, and sh under the root (its main goes with it).
		assert.equal(pruned.prunedNodes, 2);
		// Their weight is in one remainder node under main (cold) and one under the root (sh).
		assert.equal(pruned.hiddenNodes, 2);
		assert.equal(pruned.hiddenSamples, 9 + 2);
		assert.equal(pruned.nodes, full.nodes - 3 + 2);
		assert.equal(findByName(pruned.tree, 'main')?.value, 1999);

		const onlyPid = await api.profile.flame({ fromMs: T0, toMs: T0 + 20_000, pid: 8 });
		assert.equal(onlyPid.totalSamples, 2);
		const byComm = await api.profile.folded({ fromMs: T0, toMs: T0 + 10_000, comm: 'app' });
		assert.equal(byComm.text, 'app;main;cold 9\napp;main;hot 990\n');
	}));

test('bad input and bad ranges give coded errors', () =>
	withApi(async (ctx) => {
		const api = createCaller(ctx);
		await assert.rejects(api.profile.flame({ fromMs: T0, toMs: T0 - 1 }), (err: TRPCError) => {
			assert.equal(apiCodeOf(err), 'BAD_INPUT');
			return true;
		});
		await assert.rejects(api.profile.flame({ fromMs: 0, toMs: T0 }), (err: TRPCError) => {
			assert.equal(apiCodeOf(err), 'RANGE_TOO_LARGE');
			return true;
		});
		await assert.rejects(api.profile.folded({ fromMs: T0, toMs: T0 + 1, pid: -1 }), (err: TRPCError) => apiCodeOf(err) === 'BAD_INPUT');
	}));

test('hosts and process lookup combine live state and storage', () =>
	withApi(async (ctx) => {
		const api = createCaller(ctx);
		const hosts = await api.hosts.list();
		assert.equal(hosts.length, 1);
		assert.deepEqual([hosts[0]?.connected, hosts[0]?.windows, hosts[0]?.lastMs], [true, 2, T0 + 20_000]);
		const liveHit = await api.processes.find({ pid: 9 });
		assert.equal(liveHit.known && liveHit.live, true);
		const stored = await api.processes.find({ pid: 7 });
		assert.equal(stored.known && !stored.live && stored.comm, 'app');
		assert.deepEqual(await api.processes.find({ pid: 12345 }), { known: false });
	}));

test('pprof export round-trips and names the file', () =>
	withApi(async (ctx) => {
		const out = await profileExport(ctx, new URLSearchParams({ from: String(T0), to: String(T0 + 20_000), pid: '7' }));
		assert.match(out.filename, /^firesight-pid7-.*\.pb\.gz$/);
		assert.equal(out.body[0], 0x1f); // gzip magic
		const back = fromPprof(out.body);
		assert.ok(back);
		assert.equal(
			back.samples.reduce((n, s) => n + s.weight, 0),
			1999,
		);
		await assert.rejects(
			profileExport(ctx, new URLSearchParams({ from: 'x', to: '1' })),
			(err: TRPCError) => apiCodeOf(err) === 'BAD_INPUT',
		);
	}));
