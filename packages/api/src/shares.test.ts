import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { TRPCError } from '@trpc/server';
import { fromPprof, toPprof, totalWeight } from '@firesight/profile';
import type { ProfileWindow, RequestRecord } from '@firesight/protocol';
import { kernelFrame, profileWindow, userFrames } from '@firesight/testing/profile-windows';
import { requestRecord } from '@firesight/testing/request-records';
import { apiCodeOf, createCaller, profileExport, shareFromFile, type ApiContext } from './index.ts';
import { findByName, withTestApi } from './test-context.ts';

const T0 = 1_700_000_000_000;
const SECRET = 'Bearer sk_live_do_not_share_4242';

const window = (host: string, startMs: number, hot: number): ProfileWindow =>
	profileWindow(host, startMs, userFrames('app', 'main', 'hot_function', 'cold_function', kernelFrame('do_syscall_64')), [
		{ pid: 7, comm: 'app', stack: [0, 1], weight: hot },
		{ pid: 7, comm: 'app', stack: [0, 2, 3], weight: 5 },
		{ pid: 8, comm: 'sh', stack: [0], weight: 1 },
	]);

/** A captured request full of secrets, stored beside the profiles a share is made from. */
const secretRequest = (): RequestRecord =>
	requestRecord({
		ts: T0 + 1000,
		pid: 7,
		comm: 'app',
		method: 'POST',
		path: `/login?token=${SECRET}`,
		endpoint: '/login',
		local: '10.0.0.1:443',
		remote: '10.0.0.2:5000',
		connection: '10:3:1',
		requestHeaders: [['authorization', SECRET]],
		responseHeaders: [['set-cookie', SECRET]],
		requestBody: SECRET,
		responseBody: SECRET,
	});

const withApi = (fn: (ctx: ApiContext, dir: string) => Promise<void>) =>
	withTestApi(
		async (storage) => {
			await storage.profiles.insertWindow(window('h1', T0, 90));
			await storage.profiles.insertWindow(window('h2', T0 + 10_000, 100));
			await storage.requests.insertBatch({ host: 'h1', ts: T0 + 2000, omitted: 0, requests: [secretRequest()] });
		},
		(ctx, _storage, dir) => fn(ctx, dir),
	);

const codeOf = (code: string) => (err: TRPCError) => {
	assert.equal(apiCodeOf(err), code, err.message);
	return true;
};

test('a share is a snapshot of the query: same flame and top functions, what it came from, and none of the captured requests', () =>
	withApi(async (ctx) => {
		const api = createCaller(ctx);
		const query = { fromMs: T0, toMs: T0 + 20_000, pid: 7 };
		const made = await api.shares.create({
			...query,
			creator: 'ann@box',
			viewState: { view: 'graph', q: 'hot_function', orient: 'flame' },
		});
		assert.match(made.id, /^[A-Za-z0-9_-]{22}$/);
		assert.deepEqual(made.source.hosts, ['h1', 'h2']);
		assert.deepEqual(made.source.processes, [{ pid: 7, comm: 'app' }]);
		assert.deepEqual(made.source.filter, { pid: 7 });
		assert.deepEqual([made.source.kind, made.source.fromMs, made.source.toMs, made.creator], ['query', T0, T0 + 20_000, 'ann@box']);

		const live = await api.profile.flame({ ...query, minFraction: 0 });
		const shared = await api.shares.flame({ id: made.id, minFraction: 0 });
		assert.deepEqual(shared.tree, live.tree);
		assert.deepEqual(shared.topFunctions, live.topFunctions);
		assert.equal(shared.totalSamples, 90 + 100 + 10);
		assert.equal(shared.share.viewState?.q, 'hot_function');

		// Immutable: more data later changes the query, not the share.
		await ctx.storage.profiles.insertWindow(window('h1', T0 + 5000, 1000));
		assert.equal((await api.shares.flame({ id: made.id })).totalSamples, 200);
		assert.equal(findByName((await api.shares.flame({ id: made.id })).tree, 'hot_function')?.value, 190);

		// Nothing of the request is in what a share answers, or in what the store keeps (read back whole).
		const everything = JSON.stringify([
			await api.shares.get({ id: made.id }),
			shared,
			await ctx.storage.shares.get(made.id),
			await api.shares.list(),
		]);
		assert.ok(!everything.includes('sk_live'), 'a share carries a captured secret');
		assert.ok(everything.includes('hot_function'));
	}));

test('a share is decoded and drawn once per width: later readers are answered from memory; a deleted one is gone at once', () =>
	withApi(async (ctx) => {
		const api = createCaller(ctx);
		const made = await api.shares.create({ fromMs: T0, toMs: T0 + 20_000 });
		const reads: string[] = [];
		const shares = ctx.storage.shares;
		const counted: ApiContext = {
			...ctx,
			storage: {
				...ctx.storage,
				shares: {
					create: (share) => shares.create(share),
					get: (id) => (reads.push(id), shares.get(id)),
					summary: (id) => shares.summary(id),
					list: () => shares.list(),
					delete: (id) => shares.delete(id),
				},
			},
		};
		const reader = createCaller(counted);
		const first = await reader.shares.flame({ id: made.id, minFraction: 0 });
		const second = await reader.shares.flame({ id: made.id, minFraction: 0 });
		assert.deepEqual([first.cached, second.cached], [false, true]);
		assert.deepEqual(second.tree, first.tree);
		const diff = await reader.diff.shares({ baseline: { share: made.id }, comparison: { share: made.id } });
		assert.equal(diff.baselineTotal, first.totalSamples);
		assert.deepEqual(reads, [made.id], 'one decode for every read of the share');
		await api.shares.delete({ id: made.id });
		await assert.rejects(reader.shares.flame({ id: made.id }), codeOf('NOT_FOUND'));
	}));

test('shares list newest first, delete once, and unknown or malformed ids are NOT_FOUND', () =>
	withApi(async (ctx) => {
		const api = createCaller(ctx);
		const a = await api.shares.create({ fromMs: T0, toMs: T0 + 20_000 });
		const b = await api.shares.create({ fromMs: T0, toMs: T0 + 10_000, comm: 'sh' });
		assert.deepEqual((await api.shares.list()).map((s) => s.id).sort(), [a.id, b.id].sort());
		assert.equal(b.totalSamples, 1);
		const both = await api.shares.create({ fromMs: T0, toMs: T0 + 20_000, pids: [7, 8] });
		assert.deepEqual(
			[both.totalSamples, both.source.processes, both.source.filter],
			[
				202,
				[
					{ pid: 7, comm: 'app' },
					{ pid: 8, comm: 'sh' },
				],
				{ pids: [7, 8] },
			],
		);
		const one = await api.shares.create({ fromMs: T0, toMs: T0 + 20_000, pid: 8, pids: [8] });
		assert.equal(one.totalSamples, 2);
		for (const id of [both.id, one.id]) await api.shares.delete({ id });
		assert.deepEqual(await api.shares.delete({ id: a.id }), { deleted: true, id: a.id });
		await assert.rejects(api.shares.delete({ id: a.id }), codeOf('NOT_FOUND'));
		for (const id of [a.id, 'nope', 'A'.repeat(22), "'; DROP TABLE shares; --"]) {
			await assert.rejects(api.shares.get({ id }), codeOf('NOT_FOUND'));
			await assert.rejects(api.shares.flame({ id }), codeOf('NOT_FOUND'));
			await assert.rejects(profileExport(ctx, new URLSearchParams({ share: id })), codeOf('NOT_FOUND'));
		}
		assert.deepEqual(
			(await api.shares.list()).map((s) => s.id),
			[b.id],
		);
		await assert.rejects(api.shares.create({ fromMs: T0 + 100_000, toMs: T0 + 200_000 }), codeOf('BAD_INPUT'));
		await assert.rejects(api.shares.create({ fromMs: T0, toMs: T0 + 1000, viewState: { 'Bad Key': 'x' } }), codeOf('BAD_INPUT'));
	}));

test("a share exports as pprof and folded; go tool pprof -top shows the page's top functions and total", () =>
	withApi(async (ctx, dir) => {
		const api = createCaller(ctx);
		const made = await api.shares.create({ fromMs: T0, toMs: T0 + 20_000 });
		const page = await api.shares.flame({ id: made.id, minFraction: 0 });
		const out = await profileExport(ctx, new URLSearchParams({ share: made.id }));
		assert.equal(out.filename, `firesight-share-${made.id}.pb.gz`);
		assert.equal(totalWeight(fromPprof(out.body)!), page.totalSamples);
		const file = join(dir, 'share.pb.gz');
		writeFileSync(file, out.body);
		const top = execFileSync('go', ['tool', 'pprof', '-top', '-sample_index=samples', '-nodefraction=0', file], {
			encoding: 'utf8',
			env: { ...process.env, HOME: dir, PPROF_TMPDIR: dir },
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		assert.match(top, new RegExp(`Total samples = ${page.totalSamples}\\b`));
		const rows = top
			.split('\n')
			.map((line) => /^\s*(\d+)\s+[\d.]+%\s+[\d.]+%\s+(\d+)\s+[\d.]+%\s+(\S+)$/.exec(line))
			.filter((m) => m !== null)
			.map((m) => ({ name: m[3]!, self: Number(m[1]), total: Number(m[2]) }));
		assert.deepEqual(
			rows.slice(0, 3),
			page.topFunctions.slice(0, 3).map((r) => ({ name: r.name, self: r.self, total: r.total })),
		);
		const folded = await profileExport(ctx, new URLSearchParams({ share: made.id, format: 'folded' }));
		assert.equal(folded.contentType, 'text/plain; charset=utf-8');
		assert.equal(
			new TextDecoder().decode(folded.body),
			'app;main;cold_function;do_syscall_64_[k] 10\napp;main;hot_function 190\nsh;main 2\n',
		);
		const range = await profileExport(ctx, new URLSearchParams({ from: String(T0), to: String(T0 + 20_000), format: 'folded' }));
		assert.deepEqual(range.body, folded.body);
		// The range's own pprof reads the same in go tool pprof.
		const rangePprof = await profileExport(ctx, new URLSearchParams({ from: String(T0), to: String(T0 + 20_000) }));
		writeFileSync(file, rangePprof.body);
		const rangeTop = execFileSync('go', ['tool', 'pprof', '-top', '-sample_index=samples', '-nodefraction=0', file], {
			encoding: 'utf8',
			env: { ...process.env, HOME: dir, PPROF_TMPDIR: dir },
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		assert.equal(rangeTop.replace(/^(File|Time|Duration).*\n/gm, ''), top.replace(/^(File|Time|Duration).*\n/gm, ''));
		await assert.rejects(profileExport(ctx, new URLSearchParams({ share: made.id, format: 'svg' })), codeOf('BAD_INPUT'));
	}));

test('an imported file becomes a share; bad files are refused and store nothing', () =>
	withApi(async (ctx) => {
		const api = createCaller(ctx);
		const snapshot = (await ctx.storage.profiles.query({ fromMs: T0, toMs: T0 + 20_000 })).profile;
		const made = await shareFromFile(ctx, toPprof(snapshot), { filename: 'cpu.pb.gz', creator: 'cli' });
		assert.deepEqual(made.source.file, { name: 'cpu.pb.gz', format: 'pprof' });
		assert.equal(made.source.kind, 'import');
		assert.equal((await api.shares.flame({ id: made.id })).totalSamples, 202);
		const folded = await shareFromFile(ctx, Buffer.from('app;main;work 3\napp;main 1\n'), { filename: 'x.folded' });
		assert.equal(folded.totalSamples, 4);
		const before = (await api.shares.list()).length;
		await assert.rejects(shareFromFile(ctx, Buffer.alloc(0)), codeOf('BAD_INPUT'));
		await assert.rejects(shareFromFile(ctx, Buffer.from('not a profile')), codeOf('BAD_INPUT'));
		await assert.rejects(shareFromFile(ctx, Buffer.alloc(4096, 'a'), { limits: { maxBytes: 1024 } }), codeOf('TOO_LARGE'));
		await assert.rejects(shareFromFile(ctx, gzipSync(Buffer.alloc(100 * 1024 * 1024))), codeOf('TOO_LARGE'));
		assert.equal((await api.shares.list()).length, before);
	}));
