import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { startWorkload, untilOnCpu } from '@firesight/testing/workloads';
import { deferringProfiler } from './deferred-replay-harness.ts';
import { fixedAddressFunctions } from './fixed-address-functions.ts';

/*
 * Between an epilogue's `pop %rbp` and its `ret`, the CFI still says rbp is saved at CFA - 16, a
 * slot now below the stack pointer (compilers emit no .cfi_restore there). The task's memory still
 * holds it, but a deferred sample's copy of the stack starts at the stack pointer, so its replay
 * read outside the copy and ended there, counted as unwindReadFault: 29 and 33 of some 500
 * replays of a TLS loop in libcrypto's and libssl's epilogues. The register holds the saved value
 * again by then, and the walk takes it from there.
 */

/** A function that is mostly prologue and epilogue, framed as gcc frames one. */
const EPILOGUES = `
#include <stdio.h>
void epilogue_heavy(void);
__asm__(
	".globl epilogue_heavy\\n.type epilogue_heavy,@function\\nepilogue_heavy:\\n.cfi_startproc\\n"
	"\\tpush %rbp\\n\\t.cfi_def_cfa_offset 16\\n\\t.cfi_offset %rbp,-16\\n"
	"\\tpush %rbx\\n\\t.cfi_def_cfa_offset 24\\n\\t.cfi_offset %rbx,-24\\n"
	"\\tmov $3,%ebx\\n1:\\tdec %ebx\\n\\tjnz 1b\\n"
	"\\tpop %rbx\\n\\t.cfi_def_cfa_offset 16\\n"
	"\\tpop %rbp\\n\\t.cfi_def_cfa_offset 8\\n"
	"\\tret\\n.cfi_endproc\\n.size epilogue_heavy,.-epilogue_heavy\\n");
__attribute__((noinline)) void run_calls(void)
{
	for (;;)
		epilogue_heavy();
}
int main(void)
{
	printf("ready\\n");
	fflush(stdout);
	run_calls();
	return 0;
}
`;

test("a deferred sample between an epilogue's pop of rbp and its return: the replay takes rbp from the register, and walks to main", async (t) => {
	if (!skipUnlessBpf(t)) return;
	const dir = mkdtempSync(join(tmpdir(), 'firesight-epilogue-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const bin = join(dir, 'epilogues');
	writeFileSync(`${bin}.c`, EPILOGUES);
	execFileSync('gcc', ['-O2', '-fomit-frame-pointer', '-no-pie', '-o', bin, `${bin}.c`]);
	const { contains: inFn, calledFrom, range } = fixedAddressFunctions(bin);
	// The `ret`: its last byte.
	const ret = range('epilogue_heavy')[1] - 1n;
	const tally = { total: 0, whole: 0, atRet: 0, wholeAtRet: 0, replayed: 0, noRoom: 0, rounds: 0 };
	let cut: bigint[] | undefined;
	// Rounds of a second of a new process each, until ten samples have landed on the ret: as few
	// as 9 a second did on a slow machine. (One longer round would defer more than the profiler
	// holds waiting.)
	while (tally.atRet < 10 && tally.rounds < 20) {
		tally.rounds++;
		const w = await startWorkload(bin);
		t.after(w.stop);
		// Nothing describes the process at first, so its samples are deferred, each with a copy of
		// its stack from the stack pointer up; once described, they are walked again from those copies.
		const { profiler, windows, drain, replayed, describe } = deferringProfiler(t, w.pid, 499);
		await untilOnCpu(w.pid, 1);
		await drain();
		await describe();
		w.stop();
		profiler.close();
		tally.replayed += replayed();
		for (const x of windows) {
			tally.noRoom += x.counters.unwindDeferRingFull + x.counters.unwindDeferQueueFull;
			for (const c of x.counts) {
				const ips = x.stacks.get(c.userStackId);
				if (c.pid !== w.pid || !ips || !inFn(ips[0], 'epilogue_heavy')) continue;
				const reached = calledFrom(ips[1], 'run_calls') && calledFrom(ips[2], 'main');
				tally.total += c.count;
				if (reached) tally.whole += c.count;
				else cut ??= ips;
				if (ips[0] === ret) {
					tally.atRet += c.count;
					if (reached) tally.wholeAtRet += c.count;
				}
			}
		}
	}
	const { total, whole, atRet, wholeAtRet } = tally;
	const summary = `${whole} of ${total} samples in epilogue_heavy reached main through run_calls, ${wholeAtRet} of the ${atRet} at its ret (${tally.rounds} rounds, ${tally.replayed} replayed, ${tally.noRoom} with no room to wait); e.g. ${cut?.map((ip) => ip.toString(16)).join(';') ?? '(none cut)'}`;
	t.diagnostic(summary);
	assert.ok(tally.replayed >= 100 && total >= 100, summary);
	assert.ok(atRet >= 10, `samples at the ret, where rbp's slot is below the stack pointer: ${summary}`);
	assert.equal(wholeAtRet, atRet, summary);
	assert.ok(whole >= 0.99 * total, summary);
});
