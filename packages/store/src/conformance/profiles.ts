import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProfileBuilder, totalWeight, type Profile } from '@firesight/profile';
import { FALLBACK_FREQUENCY_HZ } from '../profile-store.ts';
import { acrossReopen, DAY, T0, withStorage, type BackendUnderTest } from './backend.ts';
import { coldStack, hotColdWindow, hotStack } from './hot-cold.ts';

const window = hotColdWindow;

function names(profile: Profile, stack: readonly number[]): string {
	return stack.map((i) => profile.frames[i]!.name).join(';');
}

/** Each sample as `pid comm frames weight`, sorted: equal whatever order a backend returns. */
function described(profile: Profile): string[] {
	return profile.samples.map((s) => `${s.pid} ${s.comm} ${names(profile, s.stack)} ${s.weight}`).sort();
}

/** Profiles: insert then query, merge across windows and hosts, filters, hosts, processes, retention. */
export function profileConformance(backend: BackendUnderTest): void {
	const title = (what: string) => `${backend.name} profiles: ${what}`;

	test(title('windows merge over a range with host, pid and comm filters'), () =>
		withStorage(backend, {}, async ({ storage: { profiles } }) => {
			await profiles.insertWindow(window('a', T0, [hotStack(1, 'app', 5), coldStack(1, 'app', 2), hotStack(2, 'other', 3)]));
			await profiles.insertWindow(window('a', T0 + 10_000, [hotStack(1, 'app', 7)]));
			await profiles.insertWindow(window('b', T0, [hotStack(1, 'app', 11)]));

			const all = await profiles.query({ fromMs: T0, toMs: T0 + 20_000 });
			assert.equal(all.windows, 3);
			assert.equal(totalWeight(all.profile), 5 + 2 + 3 + 7 + 11);
			// The range is the profile's; equal samples of both hosts are one.
			assert.deepEqual([all.profile.startMs, all.profile.durationMs, all.profile.frequencyHz], [T0, 20_000, 100]);
			assert.deepEqual(described(all.profile), ['1 app main;cold;do_syscall_64 2', '1 app main;hot 23', '2 other main;hot 3']);
			// Frames interned per host come back merged: one 'hot' for both hosts, none unused.
			assert.equal(all.profile.frames.filter((f) => f.name === 'hot').length, 1);
			assert.equal(
				all.profile.frames.some((f) => f.name === 'unused'),
				false,
			);

			const hostA = await profiles.query({ fromMs: T0, toMs: T0 + 20_000, host: 'a', pid: 1 });
			const byStack = new Map(hostA.profile.samples.map((s) => [names(hostA.profile, s.stack), s.weight]));
			assert.equal(byStack.get('main;hot'), 12);
			assert.equal(byStack.get('main;cold;do_syscall_64'), 2);
			assert.equal(hostA.profile.frames.find((f) => f.name === 'do_syscall_64')?.kind, 'kernel');
			assert.equal(hostA.windows, 2);

			const other = await profiles.query({ fromMs: T0, toMs: T0 + 20_000, comm: 'other' });
			assert.equal(totalWeight(other.profile), 3);
			assert.deepEqual(
				other.profile.samples.map((s) => s.pid),
				[2],
			);
			assert.equal(totalWeight((await profiles.query({ fromMs: T0, toMs: T0 + 20_000, comm: 'other', host: 'a' })).profile), 3);
			assert.equal(totalWeight((await profiles.query({ fromMs: T0, toMs: T0 + 20_000, comm: 'other', host: 'b' })).profile), 0);
			assert.equal(totalWeight((await profiles.query({ fromMs: T0, toMs: T0 + 20_000, host: 'b' })).profile), 11);

			// Only the second window of host a overlaps this range.
			const later = await profiles.query({ fromMs: T0 + 12_000, toMs: T0 + 13_000 });
			assert.equal(later.windows, 1);
			assert.equal(totalWeight(later.profile), 7);

			const empty = await profiles.query({ fromMs: T0 - 60_000, toMs: T0 - 30_000 });
			assert.deepEqual([empty.windows, empty.profile.samples.length, empty.profile.frames.length], [0, 0, 0]);
			assert.equal(empty.profile.frequencyHz, FALLBACK_FREQUENCY_HZ);
		}),
	);

	test(title('the timeline sums samples per bucket of window starts, with the same filters'), () =>
		withStorage(backend, {}, async ({ storage: { profiles } }) => {
			await profiles.insertWindow(window('a', T0 - 5_000, [hotStack(1, 'app', 4)]));
			await profiles.insertWindow(window('a', T0 + 10_000, [hotStack(1, 'app', 5), coldStack(2, 'other', 2)]));
			await profiles.insertWindow(window('b', T0 + 25_000, [hotStack(1, 'app', 7)]));
			await profiles.insertWindow(window('a', T0 + 40_000, [hotStack(1, 'app', 100)]));
			const range = { fromMs: T0, toMs: T0 + 40_000, bucketMs: 15_000 };
			// The window that started before the range counts in the first bucket; the one at toMs not at all.
			assert.deepEqual(await profiles.timeline(range), [4 + 5 + 2, 7, 0]);
			assert.deepEqual(await profiles.timeline({ ...range, host: 'a' }), [11, 0, 0]);
			assert.deepEqual(await profiles.timeline({ ...range, pid: 2 }), [2, 0, 0]);
			assert.deepEqual(await profiles.timeline({ ...range, comm: 'app' }), [9, 7, 0]);
			assert.deepEqual(await profiles.timeline({ ...range, comm: 'nobody' }), [0, 0, 0]);
		}),
	);

	test(title('a profile plus its host goes in as built and comes back the same'), () =>
		withStorage(backend, {}, async ({ storage: { profiles } }) => {
			const builder = new ProfileBuilder({ startMs: T0, durationMs: 10_000, frequencyHz: 99 });
			const main = { name: 'main', module: 'app', kind: 'user' } as const;
			builder.appendSample([main, { name: 'read', module: '[kernel.kallsyms]', kind: 'kernel' }], 4, { pid: 3, comm: 'app' });
			builder.appendSample([main], 1, { pid: 3, comm: 'app' });
			const profile = builder.build();
			await profiles.insertWindow({ ...profile, host: 'p' });
			const back = await profiles.query({ fromMs: T0, toMs: T0 + 10_000 });
			assert.deepEqual(back.profile, profile);
		}),
	);

	test(title("the merged frequency is the windows' mean weighted by duration"), () =>
		withStorage(backend, {}, async ({ storage: { profiles } }) => {
			await profiles.insertWindow(window('a', T0, [hotStack(1, 'app', 1)], 100));
			await profiles.insertWindow({ ...window('a', T0 + 10_000, [hotStack(1, 'app', 1)], 40), durationMs: 30_000 });
			const merged = await profiles.query({ fromMs: T0, toMs: T0 + 40_000 });
			assert.equal(merged.profile.frequencyHz, (100 * 10_000 + 40 * 30_000) / 40_000);
			const [host] = await profiles.listHosts();
			assert.equal(host?.frequencyHz, (100 * 10_000 + 40 * 30_000) / 40_000);
		}),
	);

	test(title('hosts and processes are listed from what is retained'), () =>
		withStorage(backend, {}, async ({ storage: { profiles } }) => {
			assert.deepEqual(await profiles.listHosts(), []);
			await profiles.insertWindow(window('b', T0, [hotStack(1, 'app', 11)]));
			await profiles.insertWindow(window('a', T0, [hotStack(1, 'app', 5), hotStack(2, 'other', 3)]));
			await profiles.insertWindow(window('a', T0 + 10_000, [hotStack(1, 'app', 7)]));
			const hosts = await profiles.listHosts();
			assert.deepEqual(
				hosts.map((h) => [h.host, h.windows, h.firstMs, h.lastMs]),
				[
					['a', 2, T0, T0 + 20_000],
					['b', 1, T0, T0 + 10_000],
				],
			);
			assert.deepEqual(await profiles.findProcess(2), { host: 'a', pid: 2, comm: 'other', lastMs: T0 + 10_000 });
			assert.equal((await profiles.findProcess(1))?.host, 'a', 'the newest sighting wins');
			assert.equal((await profiles.findProcess(1, 'b'))?.lastMs, T0 + 10_000);
			assert.equal(await profiles.findProcess(2, 'b'), null);
			assert.equal(await profiles.findProcess(999), null);
		}),
	);

	test(title('retention drops old windows and their processes, and storing goes on after'), () =>
		withStorage(backend, { retentionMs: DAY }, async ({ storage }) => {
			const { profiles } = storage;
			await profiles.insertWindow(window('a', T0, [coldStack(1, 'old', 4)]));
			await profiles.insertWindow(window('a', T0 + 3 * DAY, [hotStack(2, 'new', 6)]));
			// Nothing has ended before the cutoff yet.
			await storage.prune(T0 + DAY);
			assert.equal((await profiles.query({ fromMs: 0, toMs: T0 * 2 })).windows, 2);
			await storage.prune(T0 + 3 * DAY + 3_600_000);
			const left = await profiles.query({ fromMs: 0, toMs: T0 * 2 });
			assert.equal(left.windows, 1);
			assert.equal(totalWeight(left.profile), 6);
			assert.equal(
				left.profile.frames.some((f) => f.name === 'cold'),
				false,
			);
			assert.equal(await profiles.findProcess(1), null);
			assert.equal((await profiles.findProcess(2))?.comm, 'new');
			assert.deepEqual(
				(await profiles.listHosts()).map((h) => [h.host, h.windows]),
				[['a', 1]],
			);
			// What was dropped can be stored again, whole.
			await profiles.insertWindow(window('a', T0 + 3 * DAY + 10_000, [coldStack(1, 'old', 1)]));
			const again = await profiles.query({ fromMs: T0 + 3 * DAY + 10_000, toMs: T0 * 2 });
			assert.deepEqual(described(again.profile), ['1 old main;cold;do_syscall_64 1']);
		}),
	);

	test(title('a window with a frame id out of range is refused and leaves nothing behind'), () =>
		withStorage(backend, {}, async ({ storage: { profiles } }) => {
			await assert.rejects(
				profiles.insertWindow(window('a', T0, [hotStack(1, 'app', 1), { pid: 1, comm: 'app', stack: [0, 9], weight: 1 }])),
			);
			const after = await profiles.query({ fromMs: 0, toMs: T0 * 2 });
			assert.deepEqual([after.windows, after.profile.samples.length], [0, 0]);
			await profiles.insertWindow(window('a', T0, [hotStack(1, 'app', 2)]));
			assert.deepEqual(described((await profiles.query({ fromMs: 0, toMs: T0 * 2 })).profile), ['1 app main;hot 2']);
		}),
	);

	test(title('what was stored answers the same after reopening'), (t) => {
		const query = { fromMs: T0, toMs: T0 + 10_000 };
		return acrossReopen(
			t,
			backend,
			async (storage) => {
				await storage.profiles.insertWindow(window('a', T0, [hotStack(1, 'app', 5), coldStack(1, 'app', 2), hotStack(2, 'other', 3)]));
				await storage.profiles.insertWindow(window('b', T0, [coldStack(1, 'app', 4), hotStack(1, 'app', 1)]));
				return Promise.all(['a', 'b', undefined].map((host) => storage.profiles.query({ ...query, host })));
			},
			async (storage, warm) => {
				const cold = await Promise.all(['a', 'b', undefined].map((host) => storage.profiles.query({ ...query, host })));
				for (let i = 0; i < warm.length; i++) assert.deepEqual(described(cold[i]!.profile), described(warm[i]!.profile));
				assert.equal(warm[0]!.profile.samples.length + warm[1]!.profile.samples.length, 5);
				assert.equal(totalWeight(cold[2]!.profile), 15);
				// Equal frames of both hosts are one entry in either answer.
				assert.equal(cold[2]!.profile.frames.length, warm[2]!.profile.frames.length);
				assert.equal(new Set(cold[2]!.profile.frames.map((f) => `${f.kind} ${f.module} ${f.name}`)).size, cold[2]!.profile.frames.length);
				assert.deepEqual(
					(await storage.profiles.listHosts()).map((h) => h.host),
					['a', 'b'],
				);
				// Storing goes on where it left off: the same stack again, and a new one.
				await storage.profiles.insertWindow(window('a', T0 + 10_000, [hotStack(1, 'app', 1), coldStack(1, 'app', 1)]));
				assert.equal(totalWeight((await storage.profiles.query({ fromMs: T0, toMs: T0 + 20_000 })).profile), 17);
			},
		);
	});

	test(title('a closed storage refuses calls'), () =>
		withStorage(backend, {}, async ({ storage }) => {
			await storage.close();
			await storage.close();
			await assert.rejects(storage.profiles.query({ fromMs: 0, toMs: 1 }), /closed/);
			await assert.rejects(storage.profiles.insertWindow(window('a', T0, [])), /closed/);
		}),
	);
}
