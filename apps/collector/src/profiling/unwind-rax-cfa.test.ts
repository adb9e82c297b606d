import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { sampleCProgram } from './c-program-sampling.ts';

/*
 * OpenSSL's AES-GCM and SHA-512 (AVX2) assembly, in node, keeps the entry rsp in rax while it
 * realigns the stack, and says so in its CFI (CFA = rax + 8); rbp is a scratch register there.
 * With no rule for rax the walker went on by frame pointers: unwindFramePointerLost, in a soak's
 * debug log of each walk's end, at node's aesni_gcm_decrypt under an HTTPS server. rax is known
 * where a sample interrupted the code, as r11 is: the leaf now walks by that rule. So it is for a
 * sample in the kernel that an interrupt or exception entered from that code: its entry saved
 * the user registers as they were (a system call's keeps neither rax nor r11).
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

/**
 * Asserts that the samples with `leaf` as their user leaf (those in the kernel only, with
 * `inKernel`) reached main through it, all but 1% of at least 100, and that the walk ends
 * `counters` grew by no more.
 */
async function assertWalkedToMain(
	t: TestContext,
	program: { name: string; source: string },
	leaf: string,
	counters: ('unwindFramePointerLost' | 'unwindRuleUnsupported')[],
	inKernel = false,
): Promise<void> {
	const { stacks, grew } = await sampleCProgram(t, { ...program, frequency: FREQUENCY, cpuSeconds: 1 });
	const inLeaf = stacks.filter((s) => s.user.at(-1) === leaf && (!inKernel || s.inKernel));
	const total = inLeaf.reduce((n, s) => n + s.count, 0);
	const whole = inLeaf.filter((s) => s.user.at(-2) === 'main').reduce((n, s) => n + s.count, 0);
	const lost = counters.reduce((n, c) => n + grew(c), 0);
	const cut = inLeaf.find((s) => s.user.at(-2) !== 'main');
	const summary = `${whole} of ${total} samples in ${leaf}${inKernel ? ' taken in the kernel' : ''} reached main; ${counters.join(' and ')} ${lost}; e.g. ${cut?.user.join(';') ?? '(none cut)'}`;
	t.diagnostic(summary);
	assert.ok(total >= 100, summary);
	assert.ok(whole >= 0.99 * total, summary);
	assert.ok(lost <= 0.01 * total, summary);
}

test('a sample in code whose CFA is rax + 8 walks on to main, not counted as a frame pointer lost', async (t) => {
	if (!skipUnlessBpf(t)) return;
	await assertWalkedToMain(t, { name: 'rax-framed', source: RAX_FRAMED }, 'spin_rax', ['unwindFramePointerLost']);
});

/**
 * The same frame, writing a byte to each page of a region the kernel takes back after every pass:
 * most of its time is the kernel's, in the page faults its writes take.
 */
const RAX_FRAMED_FAULTING = `
#include <stdio.h>
#include <sys/mman.h>
#define REGION (64UL << 20)
void touch_rax(char *p, unsigned long pages);
__asm__(
	".globl touch_rax\\n.type touch_rax,@function\\ntouch_rax:\\n.cfi_startproc\\n"
	"\\tlea (%rsp),%rax\\n\\t.cfi_def_cfa_register %rax\\n"
	"\\tpush %rbp\\n\\t.cfi_offset %rbp,-16\\n"
	"\\tmov $1,%ebp\\n"
	"\\tand $-64,%rsp\\n"
	"1:\\tmovb $1,(%rdi)\\n\\tadd $4096,%rdi\\n\\tdec %rsi\\n\\tjnz 1b\\n"
	"\\tmov -8(%rax),%rbp\\n\\t.cfi_restore %rbp\\n"
	"\\tlea (%rax),%rsp\\n\\t.cfi_def_cfa_register %rsp\\n"
	"\\tret\\n.cfi_endproc\\n.size touch_rax,.-touch_rax\\n");
int main(void)
{
	char *p = mmap(0, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	/* Small pages: a fault for each one written, not one for each 2 MiB. */
	madvise(p, REGION, MADV_NOHUGEPAGE);
	printf("ready\\n");
	fflush(stdout);
	for (;;) {
		touch_rax(p, REGION / 4096);
		madvise(p, REGION, MADV_DONTNEED);
	}
	return 0;
}
`;

test('a sample in a page fault of code whose CFA is rax + 8 walks on to main from the registers the fault saved', async (t) => {
	if (!skipUnlessBpf(t)) return;
	await assertWalkedToMain(
		t,
		{ name: 'rax-framed-faulting', source: RAX_FRAMED_FAULTING },
		'touch_rax',
		['unwindFramePointerLost', 'unwindRuleUnsupported'],
		true,
	);
});
