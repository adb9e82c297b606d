import assert from 'node:assert/strict';
import { test } from 'node:test';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { sampleCProgram } from './c-program-sampling.ts';

/*
 * glibc's clone3 (and clone) end their unwind info at the system call, on purpose: the new
 * thread starts there, and its unwinding must stop. The parent returns through the same few
 * instructions after the syscall, which no FDE covers. A sample taken while the kernel creates a
 * thread has its user pc there: with no table the walker went on by frame pointers, and rbp in
 * the caller (pthread_create, built without frame pointers) holds a pointer to the new thread's
 * struct pthread, not a frame: unwindFramePointerLost, node's steady one in a soak (its worker
 * threads). The walker now takes the rule of the syscall's own function for that pc.
 */

const FREQUENCY = 499;

/** Threads made and joined without end: the main thread spends much of its time in clone3. */
const THREADS = `
#include <pthread.h>
#include <stdio.h>
static void *nothing(void *arg) { return arg; }
__attribute__((noinline)) void make_threads(void)
{
	for (;;) {
		pthread_t t;
		if (pthread_create(&t, 0, nothing, 0) == 0)
			pthread_join(t, 0);
	}
}
int main(void)
{
	printf("ready\\n");
	fflush(stdout);
	make_threads();
	return 0;
}
`;

test('a sample in clone3 while the kernel makes a thread walks on to main, not counted as a frame pointer lost', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const { stacks, grew } = await sampleCProgram(t, {
		name: 'threads',
		source: THREADS,
		ccFlags: ['-pthread'],
		frequency: FREQUENCY,
		cpuSeconds: 2,
	});
	// The new threads' own samples there end at clone3, their outermost frame (glibc's rows for
	// the child say so, and its stack's top is zero): the parent's go on to main.
	const inClone = stacks.filter((s) => /clone3?$/.test(s.user.at(-1) ?? '') && s.user.length > 1);
	const children = stacks.filter((s) => s.user.length === 1 && /clone3?$/.test(s.user[0]!)).reduce((n, s) => n + s.count, 0);
	const total = inClone.reduce((n, s) => n + s.count, 0);
	const whole = inClone.filter((s) => s.user.includes('main') && s.user.includes('make_threads')).reduce((n, s) => n + s.count, 0);
	const lost = grew('unwindFramePointerLost');
	const zeroReturn = grew('unwindZeroReturn');
	const cut = inClone.find((s) => !s.user.includes('main'));
	const summary = `${whole} of ${total} samples of the parent in clone reached main through make_threads (and ${children} of new threads ended there); unwindFramePointerLost ${lost}, unwindZeroReturn ${zeroReturn}; e.g. ${cut?.user.join(';') ?? '(none cut)'}`;
	t.diagnostic(summary);
	assert.ok(total >= 100, summary);
	assert.ok(whole >= 0.99 * total, summary);
	assert.ok(lost <= 0.01 * total, summary);
	// A new thread's zero at the top of its fresh stack is its end, not a stack cut short.
	assert.ok(children > 0, summary);
	assert.equal(zeroReturn, 0, summary);
});
