import assert from 'node:assert/strict';
import { test } from 'node:test';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { sampleCProgram } from './c-program-sampling.ts';

/*
 * OpenSSL's AES-GCM and SHA-512 (AVX2) assembly, in node, keeps the entry rsp in rax while it
 * realigns the stack, and says so in its CFI (CFA = rax + 8); rbp is a scratch register there.
 * With no rule for rax the walker went on by frame pointers: unwindFramePointerLost, in a soak's
 * debug log of each walk's end, at node's aesni_gcm_decrypt under an HTTPS server. rax is known
 * where a sample interrupted the code, as r11 is: the leaf now walks by that rule.
 */

const FREQUENCY = 499;

/** A leaf framed as OpenSSL's: CFA from rax, the stack realigned, rbp holding no frame. */
const RAX_FRAMED = `
#include <stdio.h>
void spin_rax(void);
__asm__(
	".globl spin_rax\\n.type spin_rax,@function\\nspin_rax:\\n.cfi_startproc\\n"
	"\\tlea (%rsp),%rax\\n\\t.cfi_def_cfa_register %rax\\n"
	"\\tpush %rbp\\n\\t.cfi_offset %rbp,-16\\n"
	"\\tmov $1,%ebp\\n"
	"\\tand $-64,%rsp\\n"
	"\\tmov $100000000,%rcx\\n1:\\tdec %rcx\\n\\tjnz 1b\\n"
	"\\tmov -8(%rax),%rbp\\n\\t.cfi_restore %rbp\\n"
	"\\tlea (%rax),%rsp\\n\\t.cfi_def_cfa_register %rsp\\n"
	"\\tret\\n.cfi_endproc\\n.size spin_rax,.-spin_rax\\n");
int main(void)
{
	printf("ready\\n");
	fflush(stdout);
	for (;;)
		spin_rax();
	return 0;
}
`;

test('a sample in code whose CFA is rax + 8 walks on to main, not counted as a frame pointer lost', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const { stacks, grew } = await sampleCProgram(t, { name: 'rax-framed', source: RAX_FRAMED, frequency: FREQUENCY, cpuSeconds: 1 });
	// Those taken in user mode: a sample in the kernel (an interrupt's) does not know the user rax.
	const inKernel = stacks.filter((s) => s.inKernel).reduce((n, s) => n + s.count, 0);
	const inLeaf = stacks.filter((s) => !s.inKernel && s.user.at(-1) === 'spin_rax');
	const total = inLeaf.reduce((n, s) => n + s.count, 0);
	const whole = inLeaf.filter((s) => s.user.at(-2) === 'main').reduce((n, s) => n + s.count, 0);
	const lost = grew('unwindFramePointerLost');
	const cut = inLeaf.find((s) => s.user.at(-2) !== 'main');
	const summary = `${whole} of ${total} samples in spin_rax in user mode reached main (and ${inKernel} in the kernel); unwindFramePointerLost ${lost}; e.g. ${cut?.user.join(';') ?? '(none cut)'}`;
	t.diagnostic(summary);
	assert.ok(total >= 100, summary);
	assert.ok(whole >= 0.99 * total, summary);
	assert.ok(lost <= inKernel + 0.01 * total, summary);
});
