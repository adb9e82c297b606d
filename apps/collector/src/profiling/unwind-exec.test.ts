import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { ProfileBuilder } from '@firesight/profile';
import { Symbolizer } from '@firesight/symbolize';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { onCpuNs } from '@firesight/testing/workloads';
import { symbolizeWindow } from './symbolize-window.ts';
import { deferringProfiler } from './deferred-replay-harness.ts';

/*
 * A program that burns CPU and then execs another (as a shell script's last command does): its
 * samples from before the exec are deferred, and by their replay the process's mappings and
 * tables are the new program's, in which the old addresses are never found. They used to wait
 * out their tries and end as unwindTablePending; the replay now knows the address space they were
 * taken in is gone (the process's exec generation changed), and ends them at once as
 * unwindProcessExeced, marked so that no frame is named from the new program. The new program's
 * own deferred samples are walked with its tables, whole.
 */

const FREQUENCY = 499;
/* CPU the first program burns before its exec. */
const BEFORE_MS = 300;
/* CPU the second program has run, deferred too, before the process is described. */
const AFTER_MS = 200;
/* Burns the CPU milliseconds it is given, then execs argv[2] (with argv[3]) if given. */
const SOURCE = `
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static double cpu_ms(void) {
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}
__attribute__((noinline)) void burn(double want) {
	volatile unsigned long x = 0;
	while (cpu_ms() < want)
		for (int i = 0; i < 100000; i++) x += i;
}
int main(int argc, char **argv) {
	burn(argc > 1 ? atof(argv[1]) : 40);
	if (argc > 3)
		execl(argv[2], argv[2], argv[3], (char *)0);
	return 0;
}
`;

/** Whether a process is stopped (its state in /proc/PID/stat is T). */
const stopped = (pid: number) => /^\d+ \(.*\) T /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
const comm = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();

test('samples deferred before an exec end as unwindProcessExeced at their replay, never as pending, and the new program is walked whole', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const dir = mkdtempSync(join(tmpdir(), 'firesight-exec-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	writeFileSync(join(dir, 'burn.c'), SOURCE);
	// No frame pointers: only the tables walk either program, so a replay against the wrong
	// program's tables cannot end whole by chance.
	const before = join(dir, 'burn-before');
	const after = join(dir, 'burn-after');
	execFileSync('cc', ['-O1', '-fomit-frame-pointer', '-o', before, join(dir, 'burn.c')]);
	execFileSync('cc', ['-O1', '-fomit-frame-pointer', '-o', after, join(dir, 'burn.c')]);
	// A stopped shell, so the pid is known (and filtered on) before either program runs.
	const shell = spawn('sh', ['-c', 'kill -STOP $$; exec "$0" "$@"', before, String(BEFORE_MS), after, '600000'], { stdio: 'ignore' });
	t.after(() => void shell.kill('SIGKILL'));
	const pid = shell.pid!;
	for (const deadline = Date.now() + 10_000; !stopped(pid);) {
		assert.ok(Date.now() < deadline, 'the shell stopped itself');
		await sleep(10);
	}
	// Nothing describes the process until the second program has run: every sample is deferred.
	const { windows, drain, replayed: replayedSoFar, describe } = deferringProfiler(t, pid, FREQUENCY);
	process.kill(pid, 'SIGCONT');
	let afterStart: number | undefined;
	for (const deadline = Date.now() + 240_000; ;) {
		assert.ok(Date.now() < deadline, `the second program ran ${AFTER_MS} ms of CPU`);
		await sleep(50);
		await drain();
		if (afterStart === undefined && comm(pid) === 'burn-after') afterStart = onCpuNs(pid);
		if (afterStart !== undefined && onCpuNs(pid) - afterStart >= AFTER_MS * 1e6) break;
	}
	await describe();
	// A replay's end is counted in the window being sampled then: one more drain reads the last.
	const d = await drain();
	const k = d.totals;
	const mine = windows.flatMap((x) => x.counts.filter((c) => c.pid === pid));
	const sum = (cs: typeof mine) => cs.reduce((n, c) => n + c.count, 0);
	const counted = sum(mine);
	const beforeCounts = mine.filter((c) => c.comm === 'burn-before');
	const execed = sum(mine.filter((c) => c.execed));
	const replayed = replayedSoFar();
	const summary = `${counted} samples in the windows of ${k.samples} the kernel took; ${sum(beforeCounts)} before the exec, ${execed} marked exec'd; deferred ${k.unwindDeferred}, replayed ${replayed}; unwindProcessExeced ${k.unwindProcessExeced}, unwindTablePending ${k.unwindTablePending}, unwindProcessExited ${k.unwindProcessExited}, read faults ${k.unwindReadFault}, ring full ${k.unwindDeferRingFull}, queue full ${k.unwindDeferQueueFull}`;
	t.diagnostic(summary);
	// None vanished, and the first program ran long enough to be sampled well.
	assert.equal(counted, k.samples, summary);
	assert.equal(k.unwindDeferRingFull + k.unwindDeferQueueFull, 0, summary);
	assert.ok(sum(beforeCounts) >= (0.5 * BEFORE_MS * FREQUENCY) / 1000, summary);
	// Every sample of the first program was deferred and ended as exec'd, marked so, none pending.
	assert.ok(
		beforeCounts.every((c) => c.execed),
		summary,
	);
	assert.ok(k.unwindProcessExeced >= sum(beforeCounts), summary);
	assert.equal(k.unwindProcessExeced, execed, summary);
	// And no other end: none pending, none cut (against the new program's tables the old
	// addresses are in no mapping, and the walk by guesswork faults or ends pending).
	const ends = Object.entries(k)
		.filter(([name, n]) => name.startsWith('unwind') && name !== 'unwindDeferred' && name !== 'unwindProcessExeced' && n > 0)
		.map(([name, n]) => `${name} ${n}`);
	assert.deepEqual(ends, [], summary);
	// Their frames are marked, not named from the second program's mappings.
	const builder = new ProfileBuilder({ startMs: 0, durationMs: 0, frequencyHz: FREQUENCY });
	const symbolizer = new Symbolizer();
	for (const x of windows) symbolizeWindow({ ...x, counts: x.counts.filter((c) => c.pid === pid) }, symbolizer, builder);
	const profile = builder.build();
	const marked = profile.samples
		.filter((smp) => smp.stack.some((f) => profile.frames[f]!.name === '[before exec]'))
		.reduce((n, smp) => n + smp.weight, 0);
	assert.equal(marked, execed, `${marked} samples with [before exec] frames; ${summary}`);
	// The second program's samples, deferred as well, came back walked with its own tables.
	assert.ok(sum(mine.filter((c) => c.comm === 'burn-after' && !c.execed)) >= (0.5 * AFTER_MS * FREQUENCY) / 1000, summary);
});
