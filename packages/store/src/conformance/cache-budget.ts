import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totalWeight } from '@firesight/profile';
import type { ProfileWindow } from '@firesight/protocol';
import { T0, withStorage, type BackendUnderTest } from './backend.ts';

/** A window whose every stack is new: frames an unsymbolized process makes (module+offset). */
function freshWindow(startMs: number, stacks: number, depth: number): ProfileWindow {
	return {
		host: 'box',
		startMs,
		durationMs: 10_000,
		frequencyHz: 100,
		frames: Array.from({ length: stacks * depth }, (_, i) => ({
			name: `app+0x${(startMs + i).toString(16)}`,
			module: 'app',
			kind: 'user' as const,
		})),
		samples: Array.from({ length: stacks }, (_, s) => ({
			pid: 7,
			comm: 'app',
			stack: Array.from({ length: depth }, (_, d) => s * depth + d),
			weight: 1,
		})),
	};
}

/** The profile store's caches of stored ids: bounded, each start-over counted, nothing lost. */
export function cacheBudgetConformance(backend: BackendUnderTest): void {
	test(`${backend.name} profiles: caches past their budget start over, are counted, and lose nothing`, () =>
		withStorage(backend, { profileCacheBudget: 50 }, async ({ storage: { profiles } }) => {
			assert.equal(profiles.cacheResets, 0);
			const windows = 6;
			for (let w = 0; w < windows; w++) await profiles.insertWindow(freshWindow(T0 + w * 10_000, 20, 3));
			for (let round = 0; round < 2; round++) {
				const merged = await profiles.query({ fromMs: T0, toMs: T0 + windows * 10_000 });
				assert.equal(merged.windows, windows);
				assert.equal(totalWeight(merged.profile), windows * 20);
				const first = merged.profile.samples.find((s) => merged.profile.frames[s.stack[0]!]!.name === `app+0x${T0.toString(16)}`);
				assert.deepEqual(
					first?.stack.map((i) => merged.profile.frames[i]!.name),
					[0, 1, 2].map((d) => `app+0x${(T0 + d).toString(16)}`),
				);
			}
			assert.ok(profiles.cacheResets >= windows - 1, `${profiles.cacheResets} resets counted`);
		}));
}
