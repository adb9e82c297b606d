import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { sampleCProgram, sampleCProgramFromExec, type SampledProgram } from './c-program-sampling.ts';

/*
 * ld.so's lazy-binding resolver (_dl_runtime_resolve_xsavec) keeps its CFA in rbx while it calls
 * _dl_fixup, which looks the symbol up. The walker knows rbx in the leaf, and in each caller from
 * the rules that say where its callees saved it (_dl_fixup pushes it), so it walks through the
 * resolver to the program. Before it followed rbx, it went on by frame pointers there: in a
 * program without them rbp may be zero (_start zeroes it, and nothing need change it), and the
 * walk ended as if the resolver were the outermost frame (counted as unwindFramePointerLost
 * since stop 27; a 10-minute soak counted 2 such cuts).
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

const PROGRAM = {
	name: 'lazy-binding',
	source: LAZY_BINDING,
	ccFlags: ['-fomit-frame-pointer', '-fno-builtin', '-Wl,-z,lazy'],
	frequency: 499,
};

test('a sample under the lazy-binding resolver, whose CFA is in rbx, is walked through it to main', async (t) => {
	if (!skipUnlessBpf(t)) return;
	assertThroughResolver(t, await sampleCProgram(t, { ...PROGRAM, cpuSeconds: 1 }));
});

/*
 * A process's first samples come before its table is in: they are deferred, and walked again
 * from their copies of the registers (rbx among them) and the stack.
 */
test('a deferred sample under the resolver, walked again from its copy, is walked through it to main', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const sampled = await sampleCProgramFromExec(t, { ...PROGRAM, env: { LD_BIND_NOT: '1' } });
	assert.ok(sampled.grew('unwindDeferred') > 0, 'samples were deferred');
	assertThroughResolver(t, sampled);
});

function assertThroughResolver(t: TestContext, { stacks, grew }: SampledProgram): void {
	const count = (list: typeof stacks) => list.reduce((n, s) => n + s.count, 0);
	const total = count(stacks);
	const resolving = stacks.filter((s) => s.user.some((f) => f.startsWith('_dl_runtime_resolve')));
	const whole = resolving.filter((s) => /^(.+;)?main;run_calls;_dl_runtime_resolve/.test(s.user.join(';')));
	const other = resolving.filter((s) => !whole.includes(s));
	// In _dl_fixup or below: the resolver's frame was found from rbx as _dl_fixup saved it.
	const deeper = whole.filter((s) => !s.user.at(-1)!.startsWith('_dl_runtime_resolve'));
	const lost = grew('unwindFramePointerLost');
	const summary = `${count(resolving)} of ${total} samples under the resolver: ${count(whole)} reached main, ${count(deeper)} of them from below it; unwindFramePointerLost ${lost}, deferred ${grew('unwindDeferred')}; e.g. ${(other[0] ?? deeper[0])?.user.join(';') ?? '(none)'}`;
	t.diagnostic(summary);
	assert.ok(count(resolving) >= 0.5 * total && total >= 100, `the program spends its time binding: ${summary}`);
	assert.deepEqual(other, [], `each reached main through run_calls: ${summary}`);
	assert.ok(count(deeper) > 0, `samples below the resolver, where its CFA is in rbx: ${summary}`);
	assert.equal(lost, 0, `none cut: ${summary}`);
}
