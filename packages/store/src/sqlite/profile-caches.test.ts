import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import type { ProfileWindow } from '@firesight/protocol';
import { migrate } from './migrations.ts';
import { ProfileCaches } from './profile-caches.ts';
import { ProfileInserter } from './profile-insert.ts';
import { queryProfile } from './profile-query.ts';

/** A window whose every stack is new: frames an unsymbolized process makes (module+offset). */
function freshWindow(startMs: number, stacks: number, depth: number): ProfileWindow {
	const frames = Array.from({ length: stacks * depth }, (_, i) => ({
		name: `app+0x${(startMs + i).toString(16)}`,
		module: 'app',
		kind: 'user' as const,
	}));
	return {
		host: 'box',
		startMs,
		durationMs: 10_000,
		frequencyHz: 100,
		frames,
		samples: Array.from({ length: stacks }, (_, s) => ({
			pid: 7,
			comm: 'app',
			stack: Array.from({ length: depth }, (_, d) => s * depth + d),
			weight: 1,
		})),
	};
}

test('the profile caches start over once past their budget, and queries still answer from the database', async () => {
	const db = new Database(':memory:');
	try {
		migrate(db);
		const caches = new ProfileCaches(500);
		// The inserter's constructor gains arguments as the store grows (a ledger hook); what this
		// test needs is the caches it is given.
		const inserter = Reflect.construct(ProfileInserter, [db, caches, () => {}]) as ProfileInserter;
		let peak = 0;
		const windows = 20;
		for (let w = 0; w < windows; w++) {
			inserter.insert(freshWindow(w * 10_000, 20, 8));
			peak = Math.max(peak, caches.entries);
		}
		// Each window adds 20 stacks of 8 new frames: 20 stacks, 160 frame ids (5 entries) and 160 frames.
		assert.ok(caches.resets >= 5, `only ${caches.resets} resets`);
		assert.ok(peak <= 500 + 185, `the caches held ${peak} entries, budget 500 plus one window`);
		// Stacks stored before a reset are named from the database, not from the forgotten caches.
		const merged = await queryProfile(db, caches, { fromMs: 0, toMs: windows * 10_000 });
		assert.equal(merged.windows, windows);
		assert.equal(merged.profile.samples.length, windows * 20);
		const first = merged.profile.samples.find((s) => merged.profile.frames[s.stack[0]!]!.name === 'app+0x0');
		assert.ok(first, 'the first window’s first stack');
		assert.deepEqual(
			first.stack.map((i) => merged.profile.frames[i]!.name),
			Array.from({ length: 8 }, (_, d) => `app+0x${d.toString(16)}`),
		);
		// Inserting the same frames again after a reset finds the stored rows instead of failing.
		inserter.insert(freshWindow(0, 20, 8));
		assert.equal(
			(await queryProfile(db, caches, { fromMs: 0, toMs: 10_000 })).profile.samples.reduce((n, s) => n + s.weight, 0),
			40,
		);
	} finally {
		db.close();
	}
});

test('stored stacks keep one id each and their samples, through caches that start over and merges that read stacks back', async () => {
	// Windows of random stacks over a small set of frames (so stacks share prefixes and repeat),
	// of two hosts, stored through caches of a small budget, against a plain Map of weights.
	const frameName = (f: number) => `f${f}`;
	const sample = fc.record({
		host: fc.constantFrom('a', 'b'),
		stack: fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 5 }),
		weight: fc.integer({ min: 1, max: 9 }),
	});
	await fc.assert(
		fc.asyncProperty(
			fc.array(fc.array(sample, { maxLength: 12 }), { minLength: 1, maxLength: 12 }),
			fc.integer({ min: 5, max: 60 }),
			fc.boolean(),
			async (windows, budget, queryBetween) => {
				const db = new Database(':memory:');
				try {
					migrate(db);
					const caches = new ProfileCaches(budget);
					const inserter = Reflect.construct(ProfileInserter, [db, caches, () => {}]) as ProfileInserter;
					const expected = new Map<string, number>();
					for (const [w, samples] of windows.entries()) {
						for (const host of ['a', 'b']) {
							const mine = samples.filter((s) => s.host === host);
							inserter.insert({
								host,
								startMs: w * 10_000,
								durationMs: 10_000,
								frequencyHz: 100,
								frames: Array.from({ length: 8 }, (_, f) => ({ name: frameName(f), module: 'app', kind: 'user' as const })),
								samples: mine.map((s) => ({ pid: 1, comm: 'app', stack: s.stack, weight: s.weight })),
							});
							for (const s of mine) {
								const key = `${host}|${s.stack.map(frameName).join(';')}`;
								expected.set(key, (expected.get(key) ?? 0) + s.weight);
							}
						}
						// A merge between windows loads stacks by id into the caches the next insert searches.
						if (queryBetween) await queryProfile(db, caches, { fromMs: 0, toMs: (w + 1) * 10_000, host: 'a' });
					}
					const stored = db.prepare('SELECT COUNT(*) n FROM stacks').get() as { n: number };
					assert.equal(stored.n, new Set([...expected.keys()]).size, 'one stacks row per host and stack');
					const got = new Map<string, number>();
					for (const host of ['a', 'b']) {
						const merged = await queryProfile(db, caches, { fromMs: 0, toMs: windows.length * 10_000, host });
						for (const s of merged.profile.samples) {
							const key = `${host}|${s.stack.map((i) => merged.profile.frames[i]!.name).join(';')}`;
							got.set(key, (got.get(key) ?? 0) + s.weight);
						}
					}
					assert.deepEqual(got, expected);
				} finally {
					db.close();
				}
			},
		),
		{ numRuns: 60 },
	);
});
