import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProfileBuilder, type Profile } from '@firesight/profile';
import { isShareId, type NewShare } from '../share-store.ts';
import { acrossReopen, DAY, T0, withStorage, type BackendUnderTest } from './backend.ts';

function snapshot(hot: number): Profile {
	const builder = new ProfileBuilder({ startMs: T0, durationMs: 60_000, frequencyHz: 99 });
	builder.appendSample(
		[
			{ name: 'main', module: 'app', kind: 'user' },
			{ name: 'hot', module: 'app', kind: 'user' },
		],
		hot,
		{ pid: 7, comm: 'app' },
	);
	builder.appendSample([{ name: 'do_syscall_64', module: '[kernel.kallsyms]', kind: 'kernel' }], 2, { pid: 8, comm: 'sh' });
	return builder.build();
}

function share(hot: number, over: Partial<NewShare> = {}): NewShare {
	return {
		profile: snapshot(hot),
		source: { kind: 'query', fromMs: T0, toMs: T0 + 60_000, hosts: ['a'], processes: [{ pid: 7, comm: 'app' }], filter: { pid: 7 } },
		creator: 'ann',
		viewState: { view: 'graph', q: 'hot' },
		...over,
	};
}

/** Shares: create, read back exactly, list, delete; ids unguessable; no retention of their own. */
export function shareConformance(backend: BackendUnderTest): void {
	const title = (what: string) => `${backend.name} shares: ${what}`;

	test(title('a share reads back exactly as created, under a fresh 128-bit url-safe id'), () =>
		withStorage(backend, { now: () => T0 + 5 }, async ({ storage: { shares } }) => {
			const given = share(5);
			const made = await shares.create(given);
			assert.ok(isShareId(made.id), made.id);
			assert.equal(Buffer.from(made.id, 'base64url').length, 16);
			assert.deepEqual(
				{ createdMs: made.createdMs, totalSamples: made.totalSamples, stacks: made.stacks },
				{ createdMs: T0 + 5, totalSamples: 7, stacks: 2 },
			);
			const back = await shares.get(made.id);
			assert.ok(back);
			assert.deepEqual(back, { ...made, profile: given.profile });
			assert.equal(back.viewState?.q, 'hot');
			assert.deepEqual(await shares.summary(made.id), made);

			const other = await shares.create(share(9, { creator: null, viewState: null }));
			assert.notEqual(other.id, made.id);
			const again = await shares.get(other.id);
			assert.deepEqual([again?.creator, again?.viewState, again?.totalSamples], [null, null, 11]);
		}),
	);

	test(title('list is newest first without profiles; delete removes one share only'), () => {
		let clock = T0;
		return withStorage(backend, { now: () => clock }, async ({ storage: { shares } }) => {
			const first = await shares.create(share(1));
			clock += 1000;
			const second = await shares.create(share(2));
			const listed = await shares.list();
			assert.deepEqual(
				listed.map((s) => s.id),
				[second.id, first.id],
			);
			assert.equal('profile' in listed[0]!, false);
			assert.equal(await shares.delete(first.id), true);
			assert.equal(await shares.delete(first.id), false);
			assert.equal(await shares.get(first.id), null);
			assert.equal(await shares.summary(first.id), null);
			assert.ok(await shares.get(second.id));
			assert.deepEqual(
				(await shares.list()).map((s) => s.id),
				[second.id],
			);
		});
	});

	test(title('unknown and malformed ids are null, not errors'), () =>
		withStorage(backend, {}, async ({ storage: { shares } }) => {
			await shares.create(share(1));
			for (const id of ['AAAAAAAAAAAAAAAAAAAAAA', '', 'x', "' OR 1=1 --", '../../etc/passwd', 'A'.repeat(10_000)]) {
				assert.equal(await shares.get(id), null, id);
				assert.equal(await shares.summary(id), null, id);
				assert.equal(await shares.delete(id), false, id);
			}
			assert.equal((await shares.list()).length, 1);
		}),
	);

	test(title('shares are kept until deleted, whatever retention drops'), () =>
		withStorage(backend, { retentionMs: DAY }, async ({ storage }) => {
			const made = await storage.shares.create(share(3));
			await storage.prune(T0 + 400 * DAY);
			assert.equal((await storage.shares.get(made.id))?.totalSamples, 5);
		}),
	);

	test(title('shares are there after reopening'), (t) => {
		const given = share(4);
		return acrossReopen(
			t,
			backend,
			(storage) => storage.shares.create(given),
			async (storage, made) => {
				assert.deepEqual(await storage.shares.get(made.id), { ...made, profile: given.profile });
			},
		);
	});
}
