import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totalWeight, type Profile } from '@firesight/profile';
import type { ProfileWindow } from '@firesight/protocol';
import { profileWindow, userFrames } from '@firesight/testing/profile-windows';
import { requestRecord } from '@firesight/testing/request-records';
import { DAY, T0, withStorage, type BackendUnderTest } from './backend.ts';

type Sample = ProfileWindow['samples'][number];

const FRAMES = userFrames('server', 'main', 'getUser', 'listOrders', 'idle');
const window = (host: string, startMs: number, samples: Sample[]): ProfileWindow => profileWindow(host, startMs, FRAMES, samples);

const USERS = 'GET /api/users/:id';
const ORDERS = 'POST /api/orders';
const users = (weight: number, more: Partial<Sample> = {}): Sample => ({
	pid: 7,
	comm: 'server',
	stack: [0, 1],
	weight,
	endpoint: USERS,
	...more,
});
const orders = (weight: number, more: Partial<Sample> = {}): Sample => ({
	pid: 7,
	comm: 'server',
	stack: [0, 2],
	weight,
	endpoint: ORDERS,
	...more,
});
const idle = (weight: number): Sample => ({ pid: 7, comm: 'server', stack: [0, 3], weight });

/** Each sample as `leaf endpoint request ambiguous weight`, sorted. */
function described(profile: Profile): string[] {
	return profile.samples
		.map(
			(s) =>
				`${profile.frames[s.stack.at(-1)!]!.name} ${s.endpoint ?? '-'} ${s.requestId ?? '-'} ${s.ambiguous === true ? 'ambiguous' : '-'} ${s.weight}`,
		)
		.sort();
}

/** Profiles: the endpoint, request and ambiguity labels of samples are kept and filter queries. */
export function profileLabelConformance(backend: BackendUnderTest): void {
	const title = (what: string) => `${backend.name} profiles: ${what}`;

	test(title('request labels come back as stored and merge only when equal'), () =>
		withStorage(backend, {}, async ({ storage: { profiles } }) => {
			await profiles.insertWindow(
				window('a', T0, [users(5), orders(2), idle(3), users(1, { requestId: 'b1:9' }), users(4, { requestId: 'b1:10', ambiguous: true })]),
			);
			await profiles.insertWindow(window('a', T0 + 10_000, [users(7), users(2, { requestId: 'b1:9' })]));
			await profiles.insertWindow(window('b', T0, [users(11), idle(1)]));
			const all = await profiles.query({ fromMs: T0, toMs: T0 + 20_000 });
			assert.deepEqual(described(all.profile), [
				`getUser ${USERS} - - 23`,
				`getUser ${USERS} b1:10 ambiguous 4`,
				`getUser ${USERS} b1:9 - 3`,
				'idle - - - 4',
				`listOrders ${ORDERS} - - 2`,
			]);
			// A sample without labels has none at all, not empty ones.
			const plain = all.profile.samples.find((s) => s.endpoint === undefined)!;
			assert.deepEqual(Object.keys(plain).sort(), ['comm', 'pid', 'stack', 'weight']);
		}),
	);

	test(title('queries and the timeline filter by endpoint and by request, exactly'), () =>
		withStorage(backend, {}, async ({ storage: { profiles } }) => {
			await profiles.insertWindow(window('a', T0, [users(5), orders(2), idle(3), users(1, { requestId: 'b1:9' })]));
			await profiles.insertWindow(window('a', T0 + 10_000, [users(7), idle(6)]));
			// A window without any label is left out of a label query whole.
			await profiles.insertWindow(window('a', T0 + 20_000, [idle(50)]));
			await profiles.insertWindow(window('b', T0, [users(11, { pid: 8 })]));
			const range = { fromMs: T0, toMs: T0 + 30_000 };
			const byUsers = await profiles.query({ ...range, endpoint: USERS });
			assert.equal(totalWeight(byUsers.profile), 5 + 1 + 7 + 11);
			assert.ok(byUsers.profile.samples.every((s) => s.endpoint === USERS));
			assert.equal(totalWeight((await profiles.query({ ...range, endpoint: USERS, pid: 7 })).profile), 13);
			assert.equal(totalWeight((await profiles.query({ ...range, endpoint: USERS, host: 'b' })).profile), 11);
			assert.equal(totalWeight((await profiles.query({ ...range, endpoint: ORDERS })).profile), 2);
			// Exact: neither a prefix nor the path without its method matches.
			assert.equal(totalWeight((await profiles.query({ ...range, endpoint: 'GET /api/users' })).profile), 0);
			assert.equal(totalWeight((await profiles.query({ ...range, endpoint: '/api/users/:id' })).profile), 0);
			const request = await profiles.query({ ...range, requestId: 'b1:9' });
			assert.deepEqual(described(request.profile), [`getUser ${USERS} b1:9 - 1`]);
			assert.equal(totalWeight((await profiles.query({ ...range, requestId: 'b1:9', endpoint: ORDERS })).profile), 0);
			assert.equal(totalWeight((await profiles.query({ ...range, requestId: 'nobody' })).profile), 0);
			// Without a label filter every sample counts, as before.
			assert.equal(totalWeight((await profiles.query({ ...range, pid: 7 })).profile), 5 + 2 + 3 + 1 + 7 + 6 + 50);
			const timeline = { ...range, bucketMs: 10_000 };
			assert.deepEqual(await profiles.timeline({ ...timeline, endpoint: USERS }), [5 + 1 + 11, 7, 0]);
			assert.deepEqual(await profiles.timeline({ ...timeline, requestId: 'b1:9' }), [1, 0, 0]);
			assert.deepEqual(await profiles.timeline(timeline), [5 + 2 + 3 + 1 + 11, 7 + 6, 50]);
		}),
	);

	test(title('a request filter finds the ambiguous samples whose list of slow requests names it, and nothing that only looks alike'), () =>
		withStorage(backend, {}, async ({ storage: { profiles } }) => {
			await profiles.insertWindow(
				window('a', T0, [
					users(1, { requestId: 'b1:9' }),
					orders(2, { requestId: 'b1:9 b1:12+', ambiguous: true }),
					users(4, { requestId: 'b1:90+ b1:12', ambiguous: true }),
					idle(8),
				]),
			);
			const range = { fromMs: T0, toMs: T0 + 10_000 };
			const weight = async (requestId: string) => totalWeight((await profiles.query({ ...range, requestId })).profile);
			assert.equal(await weight('b1:9'), 1 + 2);
			assert.equal(await weight('b1:12'), 2 + 4);
			assert.equal(await weight('b1:90'), 4);
			for (const none of ['b1:1', 'b1', '9', 'b1:12+', ' ']) assert.equal(await weight(none), 0, none);
			assert.deepEqual(await profiles.timeline({ ...range, bucketMs: 10_000, requestId: 'b1:12' }), [6]);
			// The list comes back as stored, for the query's caller to read which entries may come after.
			const found = await profiles.query({ ...range, requestId: 'b1:12' });
			assert.deepEqual(described(found.profile), [
				`getUser ${USERS} b1:90+ b1:12 ambiguous 4`,
				`listOrders ${ORDERS} b1:9 b1:12+ ambiguous 2`,
			]);
		}),
	);

	test(title('a request keeps its requestId, the label its samples carry; one without has none'), () =>
		withStorage(backend, {}, async ({ storage: { requests } }) => {
			const base = { pid: 7, comm: 'server', path: '/api/users/3', endpoint: '/api/users/:id' };
			await requests.insertBatch({
				host: 'a',
				ts: T0,
				omitted: 0,
				requests: [
					requestRecord({ ...base, ts: T0, latencyMs: 900, requestId: 'b1:9' }),
					requestRecord({ ...base, ts: T0 + 1, latencyMs: 2 }),
				],
			});
			const listed = await requests.list({ sinceMs: T0 - 1, limit: 10 });
			assert.deepEqual(
				listed.map((r) => [r.latencyMs, r.requestId]),
				[
					[900, 'b1:9'],
					[2, undefined],
				],
			);
			assert.equal('requestId' in listed[1]!, false);
		}),
	);

	test(title('request labels survive reopening and retention, and stay correct after'), async (t) => {
		const opened = await backend.open({ pruneIntervalMs: 0, retentionMs: DAY });
		let storage = opened.storage;
		try {
			await storage.profiles.insertWindow(window('a', T0, [users(3, { requestId: 'old:1' }), orders(1)]));
			await storage.profiles.insertWindow(window('a', T0 + 3 * DAY, [users(4), orders(2, { requestId: 'new:1', ambiguous: true })]));
			if (opened.reopen) {
				await storage.close();
				storage = await opened.reopen({ pruneIntervalMs: 0, retentionMs: DAY });
			} else t.diagnostic(`${backend.name} keeps nothing across a restart: reopening not checked`);
			const range = { fromMs: 0, toMs: T0 * 2 };
			assert.equal(totalWeight((await storage.profiles.query({ ...range, endpoint: USERS })).profile), 7);
			await storage.prune(T0 + 3 * DAY + 3_600_000);
			assert.equal(totalWeight((await storage.profiles.query({ ...range, requestId: 'old:1' })).profile), 0);
			assert.deepEqual(described((await storage.profiles.query(range)).profile), [
				`getUser ${USERS} - - 4`,
				`listOrders ${ORDERS} new:1 ambiguous 2`,
			]);
			// Labels dropped with their windows can be stored again.
			await storage.profiles.insertWindow(window('a', T0 + 3 * DAY + 10_000, [users(1, { requestId: 'old:1' })]));
			assert.deepEqual(described((await storage.profiles.query({ ...range, requestId: 'old:1' })).profile), [`getUser ${USERS} old:1 - 1`]);
		} finally {
			await storage.close();
			await opened.dispose();
		}
	});
}
