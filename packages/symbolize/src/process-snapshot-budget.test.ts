import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildTargets, run, type Running } from '@firesight/testing/symbolize-targets';
import { Symbolizer } from './symbolizer.ts';

/**
 * The process snapshots' budget is in bytes: thousands of small processes and a few with huge
 * maps are both held within it, and a process whose snapshot was let go is named as before. The
 * processes are a procfs of our own making, copied from a real one: thousands cost no forks.
 */
const scratch = mkdtempSync(join(tmpdir(), 'fs-snapshots-'));
const running: Running[] = [];
after(async () => {
	for (const r of running) await r.kill();
	rmSync(scratch, { recursive: true, force: true });
});

/** A procfs under `scratch` with the given maps text and the stat of a real process. */
function fakeProc(root: string, pid: number, maps: string, stat: string): void {
	mkdirSync(join(root, String(pid)), { recursive: true });
	writeFileSync(join(root, String(pid), 'maps'), maps);
	writeFileSync(join(root, String(pid), 'stat'), stat);
}

/** Maps text of a process with `n` anonymous mappings besides its own: a JVM or a JIT runtime. */
function hugeMaps(own: string, n: number): string {
	const lines: string[] = [];
	for (let i = 0; i < n; i++) {
		const start = 0x7e00_0000_0000 + i * 0x2000;
		lines.push(`${start.toString(16)}-${(start + 0x1000).toString(16)} rw-p 00000000 00:00 0 `);
	}
	return own + lines.join('\n') + '\n';
}

test('thousands of small processes and a few huge ones are held within the byte budget; one let go is named from a fresh read', async () => {
	const b = buildTargets();
	const r = await run(b.pie, [b.libDl]);
	running.push(r);
	const small = readFileSync(`/proc/${r.pid}/maps`, 'utf8');
	const stat = readFileSync(`/proc/${r.pid}/stat`, 'utf8');
	// About two fifths of the budget each, as estimated: two fit.
	const huge = hugeMaps(readFileSync('/proc/self/maps', 'utf8'), 1200);
	const root = join(scratch, 'proc');
	const budget = 1024 * 1024;
	const s = new Symbolizer({ procRoot: root, perfMapDir: scratch, maxProcessSnapshotBytes: budget });
	// Every snapshot holds at least its maps text: at most this many fit, however they are weighed.
	const atMost = (text: string) => Math.floor(budget / text.length);
	const pids: number[] = [];
	for (let i = 0; i < 3000; i++) {
		const pid = 100_000 + i;
		fakeProc(root, pid, small, stat);
		pids.push(pid);
		s.observe(pid);
		const st = s.stats();
		assert.ok(st.processSnapshotBytes! <= budget, `${st.processSnapshotBytes} bytes kept, budget ${budget}`);
		assert.ok(
			st.processes! <= atMost(small),
			`${st.processes} snapshots of ${small.length} characters of maps each kept in ${budget} bytes`,
		);
	}
	const smallKept = s.stats().processes!;
	assert.ok(smallKept > 10 && smallKept < 3000, `${smallKept} of 3,000 small snapshots kept`);
	for (let i = 0; i < 5; i++) {
		const pid = 200_000 + i;
		fakeProc(root, pid, huge, stat);
		s.observe(pid);
		const st = s.stats();
		assert.ok(st.processSnapshotBytes! <= budget, `${st.processSnapshotBytes} bytes kept with a huge one, budget ${budget}`);
	}
	const st = s.stats();
	assert.ok(st.processes! < smallKept, `${st.processes} snapshots kept with the huge ones, ${smallKept} before`);
	assert.ok(st.processEvictions! >= 3000 - smallKept + 3, `${st.processEvictions} snapshots let go`);
	// The first small one went long ago: its frames are named all the same, from a fresh read of its maps.
	const reads = st.mapsReads!;
	assert.equal(s.user(pids[0]!, [r.info.fs_work!])[0]?.name, 'fs_work');
	assert.equal(s.user(pids[0]!, [r.info.fsfix_linked!])[0]?.name, 'fsfix_linked');
	assert.equal(s.stats().mapsReads, reads + 1);
	assert.equal(s.stats().missNoProcess, 0);
	assert.ok(s.stats().processSnapshotBytes! <= budget);
});

test('a snapshot is weighed again as its perf map grows', async () => {
	const b = buildTargets();
	const r = await run(b.pie, [b.libDl]);
	running.push(r);
	const root = join(scratch, 'proc-jit');
	const pid = 300_000;
	fakeProc(root, pid, readFileSync(`/proc/${r.pid}/maps`, 'utf8'), readFileSync(`/proc/${r.pid}/stat`, 'utf8'));
	const s = new Symbolizer({ procRoot: root, perfMapDir: scratch });
	s.observe(pid);
	const before = s.stats().processSnapshotBytes!;
	// JIT code in no mapping the maps list, named by a perf map of 20,000 functions.
	const base = 0x10_0000_0000;
	const names = Array.from({ length: 20_000 }, (_, i) => `LazyCompile:*fsJitFunction${i} /app/src/module-${i % 97}.js:${i}`);
	const lines = names.map((name, i) => `${(base + i * 0x100).toString(16)} 80 ${name}`);
	writeFileSync(join(scratch, `perf-${pid}.map`), lines.join('\n') + '\n');
	const [f] = s.user(pid, [BigInt(base + 7 * 0x100 + 0x10)]);
	assert.equal(f?.kind, 'jit');
	assert.match(f!.name, /fsJitFunction7\b/);
	const grown = s.stats().processSnapshotBytes! - before;
	const chars = names.reduce((n, name) => n + name.length, 0);
	assert.ok(grown >= chars, `the snapshot grew by ${grown} bytes with a perf map of ${chars} characters of names`);
});

test('a snapshot is weighed again when its maps are read again in place', async () => {
	const b = buildTargets();
	const r = await run(b.pie, [b.libDl]);
	running.push(r);
	const root = join(scratch, 'proc-grown');
	const pid = 400_000;
	const small = readFileSync(`/proc/${r.pid}/maps`, 'utf8');
	const stat = readFileSync(`/proc/${r.pid}/stat`, 'utf8');
	fakeProc(root, pid, small, stat);
	const s = new Symbolizer({ procRoot: root, perfMapDir: scratch });
	s.observe(pid);
	const before = s.stats().processSnapshotBytes!;
	// The same process (same start time) maps 1,500 more regions; an address in none reads its maps again.
	const grown = hugeMaps(small, 1500);
	fakeProc(root, pid, grown, stat);
	assert.equal(s.user(pid, [0x10n])[0]?.name, '[unknown]');
	assert.equal(s.stats().mapsRereadsOnMiss, 1);
	const after = s.stats().processSnapshotBytes!;
	assert.ok(
		after - before >= grown.length - small.length,
		`${before} bytes, then ${after} with ${grown.length - small.length} more characters of maps`,
	);
	assert.equal(s.stats().processes, 1);
});
