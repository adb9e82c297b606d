import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Profiler, type DrainedWindow } from '@firesight/native';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';

/*
 * A program that runs for a moment and exits before anyone reads its maps (as the collector
 * misses a tool that lives less than its 50 ms poll for new processes): its samples are deferred,
 * and on their last try the process is gone. Each must still reach a window, and its end be
 * counted as unwindProcessExited, which says why, not as unwindTablePending, the walker's miss.
 * No ProcessUnwinding here: nothing ever describes the process, as when it exits first.
 */

const FREQUENCY = 499;
/* Runs of the program, and the CPU each burns: about 300 ms in all. */
const RUNS = 8;
const CPU_MS = 40;
/* Burns the CPU milliseconds it is given, then says how much it used. */
const SOURCE = `
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double cpu_ms(void) {
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}
int main(int argc, char **argv) {
	volatile unsigned long x = 0;
	double want = argc > 1 ? atof(argv[1]) : 40;
	while (cpu_ms() < want)
		for (int i = 0; i < 100000; i++) x += i;
	printf("%.1f\\n", cpu_ms());
	return 0;
}
`;

/** Whether a process is stopped (its state in /proc/PID/stat is T). */
const stopped = (pid: number) => /^\d+ \(.*\) T /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

test('samples of short-lived processes that exited before they were read all reach the window, counted as unwindProcessExited', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const dir = mkdtempSync(join(tmpdir(), 'firesight-exited-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	writeFileSync(join(dir, 'burn.c'), SOURCE);
	execFileSync('cc', ['-O1', '-o', join(dir, 'burn'), join(dir, 'burn.c')]);
	// Stopped shells, so the pids are known (and filtered on) before the programs run.
	const runs = Array.from({ length: RUNS }, () => {
		const shell = spawn('sh', ['-c', 'kill -STOP $$; exec "$0" "$1"', join(dir, 'burn'), String(CPU_MS)], {
			stdio: ['ignore', 'pipe', 'ignore'],
		});
		t.after(() => void shell.kill('SIGKILL'));
		let out = '';
		shell.stdout.on('data', (b: Buffer) => (out += b.toString()));
		const closed = new Promise<void>((r) => shell.once('close', () => r()));
		return { pid: shell.pid!, cpuMs: async () => (await closed, Number(out.trim())) };
	});
	const pids = runs.map((r) => r.pid);
	for (const deadline = Date.now() + 10_000; !pids.every(stopped);) {
		assert.ok(Date.now() < deadline, 'the shells stopped themselves');
		await sleep(10);
	}
	const profiler = new Profiler({ frequency: FREQUENCY, pids, unwind: 'auto', deferPending: true });
	t.after(() => profiler.close());
	// One after another, as a script runs short tools: each exits before anything reads it.
	let cpuMs = 0;
	for (const r of runs) {
		process.kill(r.pid, 'SIGCONT');
		const used = await r.cpuMs();
		assert.ok(used >= CPU_MS, `a run said it used ${used} ms of CPU`);
		cpuMs += used;
	}
	// Until every deferred sample had its last try (DEFERRED_TRIES drains), with a generous bound.
	const windows: DrainedWindow[] = [];
	let w = await profiler.drain();
	windows.push(w);
	for (let i = 0; i < 40 && w.totals.unwindDeferred > windows.reduce((n, x) => n + x.replayed, 0); i++) {
		w = await profiler.drain();
		windows.push(w);
	}
	// A replay's end is counted in the window being sampled then: one more drain reads the last.
	windows.push((w = await profiler.drain()));
	const k = w.totals;
	const counted = windows.flatMap((x) => x.counts.filter((c) => pids.includes(c.pid))).reduce((n, c) => n + c.count, 0);
	const summary = `${counted} samples in the windows of ${k.samples} the kernel took (${RUNS} runs, ${cpuMs.toFixed(1)} ms of CPU in all at ${FREQUENCY} Hz); deferred ${k.unwindDeferred}, unwindProcessExited ${k.unwindProcessExited}, unwindProcessExeced ${k.unwindProcessExeced}, unwindTablePending ${k.unwindTablePending}, read faults ${k.unwindReadFault}, ring full ${k.unwindDeferRingFull}, queue full ${k.unwindDeferQueueFull}`;
	t.diagnostic(summary);
	// The kernel's count of the program's samples agrees with the CPU time it says it used.
	assert.ok(k.samples >= (0.7 * cpuMs * FREQUENCY) / 1000, summary);
	// None vanished: every sample the kernel took of it is in a window.
	assert.equal(counted, k.samples, summary);
	assert.equal(k.unwindDeferRingFull + k.unwindDeferQueueFull, 0, summary);
	// Never described, so every one was deferred (but a sample with no user memory left, in a run's
	// exit: at most one or so a run), and each ended as the process that exited.
	assert.ok(k.unwindDeferred >= k.samples - RUNS, summary);
	// (A sample of the shell before its exec of the program ends as exec'd instead.)
	assert.equal(k.unwindProcessExited + k.unwindProcessExeced, k.unwindDeferred, summary);
	assert.ok(k.unwindProcessExeced <= RUNS, summary);
	assert.equal(k.unwindTablePending + k.unwindReadFault + k.unwindFramePointerLost, 0, summary);
});
