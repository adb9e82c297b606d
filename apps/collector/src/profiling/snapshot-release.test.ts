import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Symbolizer } from '@firesight/symbolize';
import { buildTargets, run, type Running } from '@firesight/testing/symbolize-targets';
import { SnapshotRelease } from './snapshot-release.ts';

/**
 * Snapshots of exited processes are let go once their samples are named: announced exits at the
 * next window, processes the table never saw a window later; running ones stay.
 */
const running: Running[] = [];
after(async () => {
	for (const r of running) await r.kill();
});

async function start(): Promise<Running> {
	const b = buildTargets();
	const r = await run(b.pie, [b.libDl]);
	running.push(r);
	return r;
}

/** A window's end: a millisecond on, as a read in the very millisecond of a window counts as after it. */
const windowEnd = () => Date.now() + 1;

test('an announced exit goes at the next window, an unannounced one a window later, a running process stays', async () => {
	const s = new Symbolizer();
	const release = new SnapshotRelease(s, Date.now());
	const [announced, unannounced, alive] = [await start(), await start(), await start()];
	release.started(announced.pid);
	s.observe(announced.pid);
	release.started(alive.pid);
	s.observe(alive.pid);
	// Never announced: alive only when its samples were named, which read its maps.
	assert.equal(s.user(unannounced.pid, [unannounced.info.fs_work!])[0]?.name, 'fs_work');
	await announced.kill();
	await unannounced.kill();
	release.exited(announced.pid);
	assert.equal(s.stats().processes, 3);

	release.windowSent(windowEnd());
	assert.equal(s.stats().processes, 2, 'the announced exit is let go');
	// Its samples drained meanwhile are still named from its snapshot.
	assert.equal(s.user(unannounced.pid, [unannounced.info.main!])[0]?.name, 'main');

	release.windowSent(windowEnd());
	assert.equal(s.stats().processes, 1, 'the unannounced exit is let go a window after its maps were read');
	assert.equal(s.user(unannounced.pid, [unannounced.info.main!])[0]?.name, '[exited]');
	assert.equal(s.user(alive.pid, [alive.info.fs_work!])[0]?.name, 'fs_work');
	release.windowSent(windowEnd());
	assert.equal(s.stats().processes, 1, 'the running process stays');
	assert.equal(s.stats().processEvictions, 0);
});
