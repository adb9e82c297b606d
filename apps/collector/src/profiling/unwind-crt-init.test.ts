import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { filterProfile, toFolded } from '@firesight/profile';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { foldedStacks, startWorkload, untilOnCpu } from '@firesight/testing/workloads';
import { ProfileSampler } from './profile-sampler.ts';

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
	const dir = mkdtempSync(join(tmpdir(), 'firesight-crt-init-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	writeFileSync(join(dir, 'in-init.c'), IN_INIT);
	execFileSync('cc', ['-O2', '-o', join(dir, 'in-init'), join(dir, 'in-init.c')]);
	const w = await startWorkload(join(dir, 'in-init'));
	t.after(w.stop);
	const sampler = new ProfileSampler({ frequency: FREQUENCY, pids: [w.pid], windowMs: Number.MAX_SAFE_INTEGER, tickMs: 0, unwind: 'auto' });
	t.after(() => void sampler.stop());
	await sampler.unwinding!.tracker.settled();
	// What was walked before the process was described is let go.
	const before = (await sampler.tick()).counters;
	sampler.closeWindow();
	await untilOnCpu(w.pid, 1);
	const after = (await sampler.tick()).counters;
	const stacks = foldedStacks(toFolded(filterProfile(sampler.closeWindow(), { pids: [w.pid] }))).map((s) => ({
		user: s.frames.slice(1).filter((f) => !f.endsWith('_[k]')),
		count: s.count,
	}));
	const inInit = stacks.filter((s) => s.user.at(-1) === 'spin_in_init');
	const total = inInit.reduce((n, s) => n + s.count, 0);
	// Outermost first: _start, libc's start (which calls _init), _init, the spinning call.
	const whole = inInit.filter((s) => s.user[0] === '_start' && s.user.at(-2) === '_init').reduce((n, s) => n + s.count, 0);
	const lost = after.unwindFramePointerLost - before.unwindFramePointerLost;
	const cut = inInit.find((s) => s.user[0] !== '_start');
	const summary = `${whole} of ${total} samples in spin_in_init reached _start through _init; unwindFramePointerLost ${lost}; e.g. ${cut?.user.join(';') ?? '(none cut)'}`;
	t.diagnostic(summary);
	assert.ok(total >= 100, summary);
	assert.ok(whole >= 0.99 * total, summary);
	assert.ok(lost <= 0.01 * total, summary);
});
