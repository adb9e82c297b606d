import assert from 'node:assert/strict';
import { test } from 'node:test';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { sampleCProgram } from './c-program-sampling.ts';

/*
 * ld.so's lazy-binding resolver (_dl_runtime_resolve_xsavec) keeps its CFA in rbx while it calls
 * _dl_fixup, which looks the symbol up. The tables do not say how callees restore rbx, so the
 * walker cannot take that rule, and in 'auto' goes on by frame pointers. In a program without
 * them rbp may be zero there (_start zeroes it, and nothing need change it), and that ended the
 * walk as if the resolver were the outermost frame, counted nowhere. (A fresh-clone run found
 * one sample in 806 of a program's first second cut at the resolver.) A zero rbp under a rule
 * that cannot be taken is a loss: counted as unwindFramePointerLost.
 *
 * The program binds `rand` at every call: with LD_BIND_NOT set, ld.so does not write the address
 * it found into the GOT, so each call goes through the resolver again.
 */
const LAZY_BINDING = `
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
/* Keeps nothing across the calls, so no callee-saved register (rbp among them) is taken. */
__attribute__((noinline, noreturn)) void run_calls(void)
{
	for (;;)
		rand();
}
int main(int argc, char **argv)
{
	(void)argc;
	if (!getenv("LD_BIND_NOT")) {
		setenv("LD_BIND_NOT", "1", 1);
		execv("/proc/self/exe", argv);
		return 1;
	}
	printf("ready\\n");
	fflush(stdout);
	/* rbp zero, as _start leaves it in a program that never uses the register. */
	__asm__ volatile("xor %%ebp, %%ebp" ::: "rbp");
	run_calls();
}
`;

test('a sample under the lazy-binding resolver, whose CFA is in rbx, is cut there and counted, never ended as the outermost frame', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const { stacks, grew } = await sampleCProgram(t, {
		name: 'lazy-binding',
		source: LAZY_BINDING,
		ccFlags: ['-fomit-frame-pointer', '-fno-builtin', '-Wl,-z,lazy'],
		frequency: 499,
		cpuSeconds: 1,
	});
	const count = (list: typeof stacks) => list.reduce((n, s) => n + s.count, 0);
	const total = count(stacks);
	const resolving = stacks.filter((s) => s.user.some((f) => f.startsWith('_dl_runtime_resolve')));
	// Walked through the resolver's entry (its CFA still from rsp there) or cut at it.
	const whole = resolving.filter((s) => /^(.+;)?main;run_calls;_dl_runtime_resolve/.test(s.user.join(';')));
	const cut = resolving.filter((s) => s.user[0]!.startsWith('_dl_runtime_resolve'));
	const other = resolving.filter((s) => !whole.includes(s) && !cut.includes(s));
	const lost = grew('unwindFramePointerLost');
	const summary = `${count(resolving)} of ${total} samples under the resolver: ${count(whole)} reached main, ${count(cut)} were cut at it; unwindFramePointerLost ${lost}; e.g. ${(other[0] ?? cut[0])?.user.join(';') ?? '(none)'}`;
	t.diagnostic(summary);
	assert.ok(count(resolving) >= 0.5 * total && total >= 100, `the program spends its time binding: ${summary}`);
	assert.deepEqual(other, [], `no other caller: ${summary}`);
	assert.ok(count(cut) > 0, `samples deeper than the resolver's entry: ${summary}`);
	assert.ok(lost >= count(cut), `each cut one counted: ${summary}`);
});
