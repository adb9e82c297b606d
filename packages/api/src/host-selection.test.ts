import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TRPCError } from '@trpc/server';
import type { ProfileWindow } from '@firesight/protocol';
import { openStorage } from '@firesight/store';
import { retransmitWindow, windowConnection } from '@firesight/testing/retransmit-windows';
import { apiCodeOf } from './errors.ts';
import type { ApiContext } from './context.ts';
import { profileExport } from './profile-export.ts';
import { createCaller } from './router.ts';
import { NO_LIVE } from './test-context.ts';

const T0 = 1_700_000_000_000;

function window(host: string, weight: number, frequencyHz = 100): ProfileWindow {
	return {
		host,
		startMs: T0,
		durationMs: 10_000,
		frequencyHz,
		frames: [
			{ name: 'main', module: 'app', kind: 'user' },
			{ name: `on_${host}`, module: 'app', kind: 'user' },
		],
		samples: [{ pid: 7, comm: 'app', stack: [0, 1], weight }],
	};
}

const connection = { cookie: '7', pid: 42, comm: 'node', sport: 5000, dport: 80 };

async function withHosts(fn: (api: ReturnType<typeof createCaller>, ctx: ApiContext) => Promise<void>): Promise<void> {
	const storage = await openStorage({ backend: 'sqlite', path: ':memory:', pruneIntervalMs: 0 });
	try {
		for (const [host, weight] of [
			['a', 10],
			['b', 200],
			['c', 3000],
		] as const) {
			await storage.profiles.insertWindow(window(host, weight));
			await storage.connections.insertWindow(retransmitWindow(host, T0, [windowConnection({ ...connection, retransmits: weight })]));
		}
		const ctx: ApiContext = { storage, live: NO_LIVE };
		await fn(createCaller(ctx), ctx);
	} finally {
		await storage.close();
	}
}

const range = { fromMs: T0, toMs: T0 + 10_000, minFraction: 0 };

test('profile.flame takes one host, several merged, or every host', () =>
	withHosts(async (api) => {
		assert.equal((await api.profile.flame({ ...range })).totalSamples, 3210);
		assert.equal((await api.profile.flame({ ...range, host: 'b' })).totalSamples, 200);
		const two = await api.profile.flame({ ...range, host: ['a', 'b'] });
		assert.equal(two.totalSamples, 210);
		assert.equal(two.windows, 2);
		assert.equal(two.frequencyHz, 100);
		const names = JSON.stringify(two.tree);
		assert.match(names, /on_a/);
		assert.match(names, /on_b/);
		assert.doesNotMatch(names, /on_c/);
		// A host named twice counts once.
		assert.equal((await api.profile.flame({ ...range, host: ['a', 'a', 'b'] })).totalSamples, 210);
		assert.equal((await api.profile.folded({ fromMs: T0, toMs: T0 + 10_000, host: ['a', 'c'] })).totalSamples, 3010);
		await assert.rejects(api.profile.flame({ ...range, host: [] }), (err: TRPCError) => apiCodeOf(err) === 'BAD_INPUT');
	}));

test('network and requests queries take several hosts', () =>
	withHosts(async (api) => {
		const rows = await api.network.connections({ fromMs: T0, toMs: T0 + 10_000, host: ['a', 'c'] });
		assert.deepEqual(
			rows.map((r) => [r.host, r.retransmits]),
			[
				['c', 3000],
				['a', 10],
			],
		);
		const series = await api.network.series({ fromMs: T0, toMs: T0 + 10_000, stepMs: 10_000, host: ['b', 'a'] });
		assert.deepEqual(
			series.hosts.map((s) => [s.host, s.total]),
			[
				['b', 200],
				['a', 10],
			],
		);
		assert.deepEqual(series.buckets, [T0]);
		const endpoints = await api.requests.endpoints({ fromMs: T0, toMs: T0 + 10_000, host: ['a', 'b'] });
		assert.deepEqual(endpoints.endpoints, []);
	}));

test('the sandwich and the pprof download take several hosts', () =>
	withHosts(async (api, ctx) => {
		const sandwich = await api.sandwich.query({ ...range, host: ['b', 'c'], name: 'main' });
		assert.equal(sandwich.profileTotal, 3200);
		const out = await profileExport(ctx, new URLSearchParams(`from=${T0}&to=${T0 + 10_000}&host=a&host=b&format=folded`));
		assert.equal(out.totalSamples, 210);
	}));
