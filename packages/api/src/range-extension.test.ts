import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { frameKey, type Frame } from '@firesight/profile';
import type { ProfileWindow } from '@firesight/protocol';
import { openStorage, type MergedProfile, type ProfileQuery, type ProfileStore } from '@firesight/store';
import { queryProfiles } from './host-selection.ts';
import { mergedRange, type SelectionQuery } from './merged-range.ts';
import { rangeCacheFor } from './range-cache.ts';

const T0 = 1_700_000_000_000;
const FRAMES: Frame[] = ['main', 'serve', 'parse', 'gc', 'read', 'write'].map((name, i) => ({
	name,
	module: i === 4 ? '[kernel.kallsyms]' : 'app',
	kind: i === 4 ? 'kernel' : 'user',
}));

async function withStore(fn: (profiles: ProfileStore) => Promise<void>): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-api-extend-'));
	const storage = await openStorage({ backend: 'sqlite', dataDir: dir, pruneIntervalMs: 0 });
	try {
		await fn(storage.profiles);
	} finally {
		await storage.close();
		rmSync(dir, { recursive: true, force: true });
	}
}

/** A merged profile as a multiset: resolved stack and labels → weight (order and frame ids are not part of it). */
function canonical(merged: MergedProfile): { windows: number; samples: Map<string, number> } {
	const samples = new Map<string, number>();
	const { frames } = merged.profile;
	for (const s of merged.profile.samples) {
		const key = JSON.stringify([s.pid, s.comm, s.endpoint, s.requestId, s.ambiguous, s.stack.map((id) => frameKey(frames[id]!))]);
		samples.set(key, (samples.get(key) ?? 0) + s.weight);
	}
	return { windows: merged.windows, samples };
}

function assertSameMerge(got: MergedProfile, want: MergedProfile, what: string): void {
	assert.deepEqual(canonical(got), canonical(want), what);
	assert.deepEqual([got.profile.startMs, got.profile.durationMs], [want.profile.startMs, want.profile.durationMs], `${what}: range`);
	const { frequencyHz: a } = got.profile;
	const { frequencyHz: b } = want.profile;
	assert.ok(Math.abs(a - b) <= 1e-9 * b, `${what}: frequency ${a} against ${b}`);
	const used = new Set(got.profile.samples.flatMap((s) => s.stack));
	assert.ok(
		got.profile.samples.every((s) => s.weight > 0),
		`${what}: no empty sample`,
	);
	assert.ok(used.size <= got.profile.frames.length);
}

const sampleArb = fc.record({
	pid: fc.constantFrom(1, 2),
	comm: fc.constantFrom('app', 'worker'),
	endpoint: fc.constantFrom(undefined, 'GET /a'),
	stack: fc.array(fc.nat(FRAMES.length - 1), { minLength: 1, maxLength: 4 }),
	weight: fc.integer({ min: 1, max: 5 }),
});

/** One step of time: windows stored (at the clock's edge or late, into the past), then one query. */
const stepArb = fc.record({
	advanceS: fc.integer({ min: 0, max: 25 }),
	windows: fc.array(
		fc.record({
			host: fc.constantFrom('h1', 'h2'),
			lateS: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 90 }) }),
			durationS: fc.constantFrom(5, 10, 15),
			frequencyHz: fc.constantFrom(99, 100),
			samples: fc.array(sampleArb, { minLength: 0, maxLength: 6 }),
		}),
		{ maxLength: 3 },
	),
	/** A live page follows the clock; a past range sees windows arrive late, or its own again. */
	past: fc.boolean(),
});

/** The page's filters, one set per run, so consecutive queries are of one family. */
const filtersArb = fc.record({
	lengthS: fc.constantFrom(30, 60),
	host: fc.constantFrom<SelectionQuery['host']>(undefined, 'h1', ['h1', 'h2']),
	pid: fc.constantFrom(undefined, 1),
	endpoint: fc.constantFrom(undefined, 'GET /a'),
});

test('a range extended from an earlier one equals a fresh merge, over random window sequences', async () => {
	let extended = 0;
	let steps = 0;
	await fc.assert(
		fc.asyncProperty(fc.boolean(), filtersArb, fc.array(stepArb, { minLength: 2, maxLength: 12 }), async (oneRate, filters, plan) =>
			withStore(async (profiles) => {
				let now = T0;
				for (const step of plan) {
					now += step.advanceS * 1000;
					for (const w of step.windows) {
						// One rate and any length, or one length and two rates: the mean over windows then is the store's mean over time.
						const durationMs = (oneRate ? w.durationS : 10) * 1000;
						const window: ProfileWindow = {
							host: w.host,
							startMs: now - durationMs - w.lateS * 1000,
							durationMs,
							frequencyHz: oneRate ? 99 : w.frequencyHz,
							frames: FRAMES,
							samples: w.samples.map((s) => ({ ...s, ...(s.endpoint === undefined ? {} : { endpoint: s.endpoint }) })),
						};
						await profiles.insertWindow(window);
					}
					const { lengthS, host, pid, endpoint } = filters;
					const toMs = step.past ? now - 45_000 : now;
					const query: SelectionQuery = { fromMs: toMs - lengthS * 1000, toMs, host, pid, endpoint };
					const got = await mergedRange(profiles, query);
					const want = await queryProfiles(profiles, query);
					steps += 1;
					assertSameMerge(got.merged, want, `step ${steps}`);
				}
				extended += rangeCacheFor(profiles).stats.extended;
			}),
		),
		{ numRuns: 60 },
	);
	assert.ok(extended > steps / 10, `${extended} of ${steps} queries were extensions: the property must exercise them`);
});

test('a live range moved forward reads only the windows that entered and left it', () =>
	withStore(async (store) => {
		const reads: ProfileQuery[] = [];
		let windowsRead = 0;
		const profiles: Pick<ProfileStore, 'query' | 'listHosts'> = {
			listHosts: () => store.listHosts(),
			query: async (q) => {
				reads.push(q);
				const merged = await store.query(q);
				windowsRead += merged.windows;
				return merged;
			},
		};
		const window = (startMs: number, i: number): ProfileWindow => ({
			host: 'h1',
			startMs,
			durationMs: 10_000,
			frequencyHz: 99,
			frames: FRAMES,
			samples: [
				{ pid: 1, comm: 'app', stack: [0, 1, 2], weight: 5 },
				{ pid: 1, comm: 'app', stack: [0, 1, (i % 3) + 3], weight: 1 + (i % 4) },
			],
		});
		// A quarter hour of 10 s windows ending now, then a live page following the clock.
		const fifteen = 15 * 60_000;
		let now = T0 + fifteen;
		for (let i = 0; i < 90; i++) await store.insertWindow(window(T0 + i * 10_000, i));
		const first = await mergedRange(profiles, { fromMs: now - fifteen, toMs: now });
		assert.equal(first.merged.windows, 90);
		assert.equal(windowsRead, 90, 'the first range is one fresh merge');
		for (let i = 90; i < 96; i++) {
			await store.insertWindow(window(T0 + i * 10_000, i));
			now += 10_000;
			reads.length = 0;
			windowsRead = 0;
			const query = { fromMs: now - fifteen, toMs: now };
			const moved = await mergedRange(profiles, query);
			assert.ok(
				reads.every((q) => q.toMs - q.fromMs <= 10_000),
				`reads ${JSON.stringify(reads.map((q) => [q.fromMs - T0, q.toMs - T0]))} stay at the range's edges`,
			);
			assert.ok(windowsRead <= 2, `${windowsRead} windows read: the one that left and the one that entered`);
			assertSameMerge(moved.merged, await store.query(query), `shift ${i - 89}`);
		}
		assert.equal(rangeCacheFor(profiles).stats.extended, 6);
	}));
