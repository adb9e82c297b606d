import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame, ProfileWindow } from '@firesight/protocol';
import { withTestHub } from './hub-test-harness.ts';

/**
 * A flame query over many distinct stacks must not hold the hub's event loop from its start to
 * its answer: `/healthz`, asked once the store has begun merging, is answered before the flame
 * graph. Timing-free: only the order of the two answers is asserted. A merge done in one
 * synchronous go answers the flame graph first, since the health check cannot even be read
 * before it ends.
 */
const WINDOW_MS = 10_000;
const WINDOWS = 12;
/** Distinct stacks per window: 120,000 in all, several of the merge's slices at each stage. */
const STACKS = 10_000;
const DEPTH = 8;

/** A window of STACKS stacks no other window shares: each one's leaf is its own function. */
function distinctStacks(index: number, startMs: number): ProfileWindow {
	const frames: Frame[] = [];
	for (let d = 0; d < DEPTH - 1; d++) frames.push({ name: `level_${d}_${index % 4}`, module: 'app', kind: 'user' });
	const samples = [];
	for (let s = 0; s < STACKS; s++) {
		const leaf = frames.push({ name: `leaf_${index}_${s}`, module: 'app', kind: 'user' }) - 1;
		samples.push({ pid: 100 + (s % 7), comm: 'app', stack: [...Array.from({ length: DEPTH - 1 }, (_, d) => d), leaf], weight: 1 });
	}
	return { host: 'busy', startMs, durationMs: WINDOW_MS, frequencyHz: 99, frames, samples };
}

test('a flame query over many distinct stacks leaves the hub free to answer /healthz before it ends', async () => {
	await withTestHub({ token: 'healthz-flame-token' }, async (hub) => {
		const startMs = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - (WINDOWS + 1) * WINDOW_MS;
		for (let i = 0; i < WINDOWS; i++) await hub.storage.profiles.insertWindow(distinctStacks(i, startMs + i * WINDOW_MS));
		const toMs = startMs + WINDOWS * WINDOW_MS;

		const answered: string[] = [];
		let healthz: Promise<void> | undefined;
		const profiles = hub.storage.profiles;
		const query = profiles.query.bind(profiles);
		// The health check is asked as the merge begins, from this process: a merge that never lets
		// the event loop run does not even send it before the flame graph's answer is out.
		profiles.query = (q) => {
			healthz ??= fetch(`${hub.url}/healthz`).then(async (res) => {
				assert.equal(res.status, 200);
				await res.text();
				answered.push('healthz');
			});
			return query(q);
		};
		const input = encodeURIComponent(JSON.stringify({ fromMs: startMs, toMs, minFraction: 0.001 }));
		const flame = await fetch(`${hub.url}/trpc/profile.flame?input=${input}`);
		const body = (await flame.json()) as { result?: { data?: { totalSamples?: number } } };
		answered.push('flame');
		assert.equal(flame.status, 200);
		assert.equal(body.result?.data?.totalSamples, WINDOWS * STACKS, 'the whole profile was merged');
		assert.ok(healthz, 'the flame query reached the store');
		await healthz;
		assert.deepEqual(answered, ['healthz', 'flame'], '/healthz waited for the flame query');
	});
});
