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
/* Burns about 150 ms of CPU, then says how much it used. */
const SOURCE = `
#include <stdio.h>
#include <time.h>
static double cpu_ms(void) {
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}
int main(void) {
	volatile unsigned long x = 0;
	while (cpu_ms() < 150)
		for (int i = 0; i < 100000; i++) x += i;
	printf("%.1f\\n", cpu_ms());
	return 0;
}
`;

/** Whether a process is stopped (its state in /proc/PID/stat is T). */
const stopped = (pid: number) => /^\d+ \(.*\) T /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

test('samples of a process that exited before it was read all reach the window, counted as unwindProcessExited', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const dir = mkdtempSync(join(tmpdir(), 'firesight-exited-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	writeFileSync(join(dir, 'burn.c'), SOURCE);
	execFileSync('cc', ['-O1', '-o', join(dir, 'burn'), join(dir, 'burn.c')]);
	// A stopped shell, so the pid is known (and filtered on) before the program runs.
	const shell = spawn('sh', ['-c', 'kill -STOP $$; exec "$0"', join(dir, 'burn')], { stdio: ['ignore', 'pipe', 'ignore'] });
	const pid = shell.pid!;
	t.after(() => void shell.kill('SIGKILL'));
	let out = '';
	shell.stdout.on('data', (b: Buffer) => (out += b.toString()));
	const exited = new Promise<void>((r) => shell.once('close', () => r()));
	for (const deadline = Date.now() + 10_000; !stopped(pid);) {
		assert.ok(Date.now() < deadline, 'the shell stopped itself');
		await sleep(10);
	}
	const profiler = new Profiler({ frequency: FREQUENCY, pids: [pid], unwind: 'auto', deferPending: true });
	t.after(() => profiler.close());
	process.kill(pid, 'SIGCONT');
	await exited;
	const cpuMs = Number(out.trim());
	assert.ok(cpuMs >= 150, `the program said it used ${out.trim()} ms of CPU`);
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
	const counted = windows.flatMap((x) => x.counts.filter((c) => c.pid === pid)).reduce((n, c) => n + c.count, 0);
	const summary = `${counted} samples in the windows of ${k.samples} the kernel took (${cpuMs} ms of CPU at ${FREQUENCY} Hz); deferred ${k.unwindDeferred}, unwindProcessExited ${k.unwindProcessExited}, unwindTablePending ${k.unwindTablePending}, read faults ${k.unwindReadFault}, ring full ${k.unwindDeferRingFull}, queue full ${k.unwindDeferQueueFull}`;
	t.diagnostic(summary);
	// The kernel's count of the program's samples agrees with the CPU time it says it used.
	assert.ok(k.samples >= (0.7 * cpuMs * FREQUENCY) / 1000, summary);
	// None vanished: every sample the kernel took of it is in a window.
	assert.equal(counted, k.samples, summary);
	assert.equal(k.unwindDeferRingFull + k.unwindDeferQueueFull, 0, summary);
	// Never described, so every one was deferred, and each ended as the process that exited.
	assert.equal(k.unwindDeferred, k.samples, summary);
	assert.equal(k.unwindProcessExited, k.unwindDeferred, summary);
	assert.equal(k.unwindTablePending + k.unwindReadFault + k.unwindFramePointerLost, 0, summary);
});
