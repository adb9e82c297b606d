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
 * the user registers as they were (a system call's keeps neither rax nor r11). In the leaf's
 * caller (aesni_gcm_decrypt under _aesni_ctr32_ghash_6x) rax is what the leaf left, as libgcc's
 * and libunwind's walks take a register no rule restores; the return address read through it
 * must follow a call, or the stack ends there, counted.
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
 * Asserts that the samples in the last function of `chain` (main, ..., the leaf; those in the
 * kernel only, with `inKernel`) reached main through the chain, all but 1% of at least 100, and
 * that the walk ends `counters` grew by no more.
 */
async function assertWalkedToMain(
	t: TestContext,
	program: { name: string; source: string },
	chain: string[],
	counters: ('unwindFramePointerLost' | 'unwindRuleUnsupported')[],
	inKernel = false,
): Promise<void> {
	const { stacks, grew } = await sampleCProgram(t, { ...program, frequency: FREQUENCY, cpuSeconds: 1 });
	const leaf = chain.at(-1)!;
	const inLeaf = stacks.filter((s) => s.user.at(-1) === leaf && (!inKernel || s.inKernel));
	const total = inLeaf.reduce((n, s) => n + s.count, 0);
	const walked = (s: { user: string[] }) => s.user.slice(-chain.length).join(';') === chain.join(';');
	const whole = inLeaf.filter(walked).reduce((n, s) => n + s.count, 0);
	const lost = counters.reduce((n, c) => n + grew(c), 0);
	const cut = inLeaf.find((s) => !walked(s));
	const summary = `${whole} of ${total} samples in ${leaf}${inKernel ? ' taken in the kernel' : ''} reached main through ${chain.join(';')}; ${counters.join(' and ')} ${lost}; e.g. ${cut?.user.join(';') ?? '(none cut)'}`;
	t.diagnostic(summary);
	assert.ok(total >= 100, summary);
	assert.ok(whole >= 0.99 * total, summary);
	assert.ok(lost <= 0.01 * total, summary);
}

test('a sample in code whose CFA is rax + 8 walks on to main, not counted as a frame pointer lost', async (t) => {
	if (!skipUnlessBpf(t)) return;
	await assertWalkedToMain(t, { name: 'rax-framed', source: RAX_FRAMED }, ['main', 'spin_rax'], ['unwindFramePointerLost']);
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
		['main', 'touch_rax'],
		['unwindFramePointerLost', 'unwindRuleUnsupported'],
		true,
	);
});

/**
 * Framed as aesni_gcm_decrypt, which calls _aesni_ctr32_ghash_6x: the CFA from rax across a call
 * to a leaf of an ordinary frame that leaves rax alone. main calls it directly, then through a
 * pointer, so that its return address follows a direct call and an indirect one.
 */
const RAX_FRAMED_CALLER = `
#include <stdio.h>
void outer_rax(void);
__asm__(
	".globl inner_spin\\n.type inner_spin,@function\\ninner_spin:\\n.cfi_startproc\\n"
	"\\tmov $20000000,%rcx\\n1:\\tdec %rcx\\n\\tjnz 1b\\n\\tret\\n"
	".cfi_endproc\\n.size inner_spin,.-inner_spin\\n"
	".globl outer_rax\\n.type outer_rax,@function\\nouter_rax:\\n.cfi_startproc\\n"
	"\\tlea (%rsp),%rax\\n\\t.cfi_def_cfa_register %rax\\n"
	"\\tpush %rbp\\n\\t.cfi_offset %rbp,-16\\n"
	"\\tmov $1,%ebp\\n"
	"\\tand $-64,%rsp\\n"
	"\\tcall inner_spin\\n"
	"\\tmov -8(%rax),%rbp\\n\\t.cfi_restore %rbp\\n"
	"\\tlea (%rax),%rsp\\n\\t.cfi_def_cfa_register %rsp\\n"
	"\\tret\\n.cfi_endproc\\n.size outer_rax,.-outer_rax\\n");
void (*volatile outer_indirect)(void) = outer_rax;
int main(void)
{
	printf("ready\\n");
	fflush(stdout);
	for (;;) {
		outer_rax();
		outer_indirect();
	}
	return 0;
}
`;

test('a leaf called from code whose CFA is rax + 8: the caller walks on to main with the rax the leaf left, as no rule restores it', async (t) => {
	if (!skipUnlessBpf(t)) return;
	await assertWalkedToMain(
		t,
		{ name: 'rax-framed-caller', source: RAX_FRAMED_CALLER },
		['main', 'outer_rax', 'inner_spin'],
		['unwindFramePointerLost', 'unwindRuleUnsupported'],
	);
});

/**
 * The same caller, but its leaf points rax at a word the caller pushed: the address of `decoy`,
 * which the caller's rule reads as its return address. A call precedes it, never run, but to code
 * above the caller, not to the caller. (The caller keeps its own copy of its entry rsp in r12 for
 * its epilogue.)
 */
const RAX_CLOBBERED = `
#include <stdio.h>
void outer_clobbered(void);
__asm__(
	"\\t.byte 0xcc,0xcc,0xcc,0xcc,0xcc,0xcc,0xcc,0xcc\\n\\tcall later\\n"
	".globl decoy\\n.type decoy,@function\\ndecoy:\\n\\tret\\n.size decoy,.-decoy\\n"
	".globl inner_clobber\\n.type inner_clobber,@function\\ninner_clobber:\\n.cfi_startproc\\n"
	"\\tlea 8(%rsp),%rax\\n"
	"\\tmov $20000000,%rcx\\n1:\\tdec %rcx\\n\\tjnz 1b\\n\\tret\\n"
	".cfi_endproc\\n.size inner_clobber,.-inner_clobber\\n"
	".globl outer_clobbered\\n.type outer_clobbered,@function\\nouter_clobbered:\\n.cfi_startproc\\n"
	"\\tlea (%rsp),%rax\\n\\t.cfi_def_cfa_register %rax\\n"
	"\\tpush %rbp\\n\\t.cfi_offset %rbp,-16\\n"
	"\\tpush %r12\\n\\t.cfi_offset %r12,-24\\n"
	"\\tmov %rax,%r12\\n"
	"\\tmov $1,%ebp\\n"
	"\\tand $-64,%rsp\\n"
	"\\tlea decoy(%rip),%rdx\\n\\tpush %rdx\\n\\tpush %rdx\\n"
	"\\tcall inner_clobber\\n"
	"\\tmov %r12,%rax\\n"
	"\\tmov -16(%rax),%r12\\n\\t.cfi_restore %r12\\n"
	"\\tmov -8(%rax),%rbp\\n\\t.cfi_restore %rbp\\n"
	"\\tlea (%rax),%rsp\\n\\t.cfi_def_cfa_register %rsp\\n"
	"\\tret\\n.cfi_endproc\\n.size outer_clobbered,.-outer_clobbered\\n"
	"later:\\n\\tret\\n");
int main(void)
{
	printf("ready\\n");
	fflush(stdout);
	for (;;)
		outer_clobbered();
	return 0;
}
`;

test('a leaf that changed rax under a caller whose CFA is rax + 8: the word the rule then reads follows no call, and the stack ends there, counted', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const { stacks, grew } = await sampleCProgram(t, { name: 'rax-clobbered', source: RAX_CLOBBERED, frequency: FREQUENCY, cpuSeconds: 1 });
	const inLeaf = stacks.filter((s) => s.user.at(-1) === 'inner_clobber');
	const count = (keep: (user: string) => boolean) => inLeaf.filter((s) => keep(s.user.join(';'))).reduce((n, s) => n + s.count, 0);
	const total = count(() => true);
	// Cut at the caller, or (sampled before the leaf changed rax) whole; nothing invented above it.
	const cut = count((u) => u === 'outer_clobbered;inner_clobber');
	const whole = count((u) => u.endsWith(';main;outer_clobbered;inner_clobber'));
	const invented = inLeaf.find((s) => !/^outer_clobbered;inner_clobber$|;main;outer_clobbered;inner_clobber$/.test(s.user.join(';')));
	const lost = grew('unwindFramePointerLost') + grew('unwindRuleUnsupported');
	const summary = `${total} samples in inner_clobber: ${cut} cut at outer_clobbered, ${whole} whole; ${lost} counted cut; e.g. ${invented?.user.join(';') ?? '(nothing invented)'}`;
	t.diagnostic(summary);
	assert.ok(total >= 100, summary);
	assert.equal(invented, undefined, summary);
	assert.ok(cut >= 0.99 * total, summary);
	assert.ok(lost >= 0.99 * cut, summary);
});
