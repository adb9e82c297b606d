import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { buildTargets, run, type Running } from '@firesight/testing/symbolize-targets';
import { Symbolizer } from './symbolizer.ts';

/**
 * The symbolizer's two caches driven past their bounds with real processes: each stays within
 * its bound, counts what it let go, and names frames as before (a snapshot or a file let go is
 * read again).
 */
const running: Running[] = [];
after(async () => {
	for (const r of running) await r.kill();
});

test('past maxProcessSnapshotBytes, process snapshots are let go oldest first, counted, and read again when needed', async () => {
	const b = buildTargets();
	const procs: Running[] = [];
	for (let i = 0; i < 10; i++) {
		const r = await run(b.pie, [b.libDl]);
		running.push(r);
		procs.push(r);
	}
	// One snapshot's weight, as the symbolizer weighs it: the ten are the same program.
	const alone = new Symbolizer();
	alone.observe(procs[0]!.pid);
	const each = alone.stats().processSnapshotBytes!;
	const text = readFileSync(`/proc/${procs[0]!.pid}/maps`, 'utf8').length;
	assert.ok(each > text, `a snapshot weighs ${each} bytes, more than its ${text} characters of maps`);
	// Room for three and a half: from the fourth on, each new one lets the oldest go.
	const budget = Math.floor(each * 3.5);
	const s = new Symbolizer({ maxProcessSnapshotBytes: budget });
	for (const r of procs) {
		s.observe(r.pid);
		assert.equal(s.user(r.pid, [r.info.fs_work!])[0]?.name, 'fs_work');
		assert.ok(s.stats().processSnapshotBytes! <= budget, `${s.stats().processSnapshotBytes} bytes kept, budget ${budget}`);
	}
	assert.equal(s.stats().processes, 3);
	assert.equal(s.stats().processEvictions, 7);
	// The first one's snapshot went; its frames are named all the same, from a fresh read.
	const reads = s.stats().mapsReads!;
	assert.equal(s.user(procs[0]!.pid, [procs[0]!.info.main!])[0]?.name, 'main');
	assert.equal(s.stats().mapsReads, reads + 1);
	assert.equal(s.stats().processes, 3);
	assert.equal(s.stats().missNoProcess, 0);
});

test('past maxCachedSymbolBytes, parsed files are let go, counted, and parsed again when needed', async () => {
	const b = buildTargets();
	const pie = await run(b.pie, [b.libDl]);
	const nopie = await run(b.nopie, [b.libDl]);
	running.push(pie, nopie);
	// One symbol: each file is over the budget alone, so only the latest stays.
	const s = new Symbolizer({ maxCachedSymbolBytes: 1 });
	for (let round = 0; round < 3; round++) {
		assert.equal(s.user(pie.pid, [pie.info.fs_work!])[0]?.name, 'fs_work');
		assert.equal(s.user(nopie.pid, [nopie.info.fs_work!])[0]?.name, 'fs_work');
		assert.equal(s.user(pie.pid, [pie.info.fsfix_linked!])[0]?.name, 'fsfix_linked');
	}
	const st = s.stats();
	assert.equal(st.elfCached, 1);
	assert.ok(st.elfEvictions! >= 8, `${st.elfEvictions} evictions`);
	// A file let go is read again; its table comes from the build-id index while still alive.
	assert.ok(st.elfParsed! + st.elfSharedByBuildId! >= 9, `${st.elfParsed} files parsed, ${st.elfSharedByBuildId} shared`);
});
