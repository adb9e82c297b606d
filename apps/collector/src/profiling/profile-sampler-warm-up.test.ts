import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { filterProfile, toFolded } from '@firesight/profile';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { compileFixture, foldedStacks, NO_FRAME_POINTER_FLAGS, startWorkload } from '@firesight/testing/workloads';
import { ProfileSampler } from './profile-sampler.ts';

/*
 * A whole-host sampler started while a program without frame pointers runs: its first window must
 * hold that program's stacks whole, main → run_rounds → leaf, walked with tables from the first
 * sample on. The program has no build-id, so no table of it is on disk from an earlier run: it is
 * built after the sampler starts, as on a host the collector has not seen before.
 */

const FREQUENCY = 499;
const CHAIN = /;main;run_rounds;hot_[ab]$/;

async function firstWindowOfRunningProgram(warmUpMs: number | undefined) {
	const bin = compileFixture('split-60-40', { compiler: 'gcc', flags: [...NO_FRAME_POINTER_FLAGS, '-Wl,--build-id=none'] });
	// Started inside the try: a constructor that throws (the addon missing while it is rebuilt)
	// must still stop the workload, or the file never ends.
	let w: Awaited<ReturnType<typeof startWorkload>> | undefined;
	let sampler: ProfileSampler | undefined;
	let warmUpS: number | undefined;
	try {
		w = await startWorkload(bin.path);
		sampler = new ProfileSampler({
			frequency: FREQUENCY,
			windowMs: Number.MAX_SAFE_INTEGER,
			tickMs: 0,
			unwind: 'auto',
			...(warmUpMs !== undefined ? { warmUpMs } : {}),
		});
		const t0 = Date.now();
		// As the collector does: drain every 250 ms. The first window is the first second after the warm-up.
		const deadline = Date.now() + 120_000;
		let ticks = 0;
		while (ticks < 4 && Date.now() < deadline) {
			await sleep(250);
			await sampler.tick();
			if (sampler.warmingUp) continue;
			warmUpS ??= (Date.now() - t0) / 1000;
			ticks++;
		}
		assert.equal(ticks, 4, 'the warm-up ended within its 30 s and the sampler ticked on');
		const window = filterProfile(sampler.closeWindow(), { pids: [w.pid] });
		const stacks = foldedStacks(toFolded(window)).map((s) => ({ ...s, user: ';' + s.frames.filter((f) => !f.endsWith('_[k]')).join(';') }));
		const total = stacks.reduce((n, s) => n + s.count, 0);
		const whole = stacks.filter((s) => CHAIN.test(s.user)).reduce((n, s) => n + s.count, 0);
		const cut = stacks.filter((s) => !CHAIN.test(s.user)).sort((a, b) => b.count - a.count)[0];
		return { total, whole, example: cut?.user, warmUpS };
	} finally {
		await sampler?.stop();
		w?.stop();
		bin.cleanup();
	}
}

test('whole host: the first window waits for the tables of the programs running at start, and their stacks are whole', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const r = await firstWindowOfRunningProgram(undefined);
	const summary = `warm-up ${r.warmUpS} s; ${r.whole} of ${r.total} samples of the program had main → run_rounds → leaf; e.g. a cut one: ${r.example ?? '(none)'}`;
	t.diagnostic(summary);
	assert.ok(r.total >= 50, `only ${r.total} samples of a busy program in a second: ${summary}`);
	assert.ok(r.whole >= 0.97 * r.total, summary);
});
