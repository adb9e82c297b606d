import assert from 'node:assert/strict';
import { test } from 'node:test';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { sampleCProgram } from './c-program-sampling.ts';

/*
 * glibc's crti.o and crtn.o give `_init` (the .init section) no unwind info and no frame
 * pointer, and other objects put calls into it: OpenSSL's OPENSSL_cpuid_setup in node, whose
 * cpuid instructions trap to the hypervisor in a virtual machine, so samples land there at every
 * node start. The walk found the return address in _init and had no rule for it: by frame
 * pointers, rbp there is whatever libc left (unwindFramePointerLost in a soak's debug log, node's
 * pc 0xb6f01b). The table builder now gives crti's fixed frame its rule.
 */

const FREQUENCY = 499;

/** A call placed in .init, as OpenSSL's build places OPENSSL_cpuid_setup: it spins before main. */
const IN_INIT = `
#include <stdio.h>
__attribute__((used, noinline)) void spin_in_init(void)
{
	printf("ready\\n");
	fflush(stdout);
	for (volatile unsigned long i = 0;; i++)
		;
}
__asm__(".pushsection .init,\\"ax\\",@progbits\\n\\tcall spin_in_init\\n\\t.popsection");
int main(void)
{
	return 0;
}
`;

test('a sample in a call from .init walks through _init to _start, not counted as a frame pointer lost', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const { stacks, grew } = await sampleCProgram(t, { name: 'in-init', source: IN_INIT, frequency: FREQUENCY, cpuSeconds: 1 });
	const inInit = stacks.filter((s) => s.user.at(-1) === 'spin_in_init');
	const total = inInit.reduce((n, s) => n + s.count, 0);
	// Outermost first: _start, libc's start (which calls _init), _init, the spinning call.
	const whole = inInit.filter((s) => s.user[0] === '_start' && s.user.at(-2) === '_init').reduce((n, s) => n + s.count, 0);
	const lost = grew('unwindFramePointerLost');
	const cut = inInit.find((s) => s.user[0] !== '_start');
	const summary = `${whole} of ${total} samples in spin_in_init reached _start through _init; unwindFramePointerLost ${lost}; e.g. ${cut?.user.join(';') ?? '(none cut)'}`;
	t.diagnostic(summary);
	assert.ok(total >= 100, summary);
	assert.ok(whole >= 0.99 * total, summary);
	assert.ok(lost <= 0.01 * total, summary);
});
