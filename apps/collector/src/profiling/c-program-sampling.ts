import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { filterProfile, toFolded } from '@firesight/profile';
import { foldedStacks, startWorkload, untilOnCpu } from '@firesight/testing/workloads';
import { ProfileSampler } from './profile-sampler.ts';

export interface SampledStack {
	/** User frames, outermost first (the process's own frame and kernel frames left out). */
	user: string[];
	/** Whether the sample was taken in the kernel: then the walk started from the registers the process entered with. */
	inKernel: boolean;
	count: number;
}

export interface SampledProgram {
	stacks: SampledStack[];
	/** How much one of the sampler's counters grew while the stacks above were taken. */
	grew(counter: keyof Awaited<ReturnType<ProfileSampler['tick']>>['counters']): number;
}

/**
 * One set-up for the unwind tests that each compile a small C program framed in an unusual way,
 * run it, and read its stacks: the samples are taken only once its unwind tables are in (what was
 * walked before the process was described, and the walks of its samples deferred until then, are
 * let go), until it has had cpuSeconds of CPU.
 */
export async function sampleCProgram(
	t: TestContext,
	program: { name: string; source: string; ccFlags?: string[]; frequency: number; cpuSeconds: number },
): Promise<SampledProgram> {
	const dir = mkdtempSync(join(tmpdir(), `firesight-${program.name}-`));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const binary = join(dir, program.name);
	writeFileSync(`${binary}.c`, program.source);
	execFileSync('cc', ['-O2', ...(program.ccFlags ?? []), '-o', binary, `${binary}.c`]);
	const w = await startWorkload(binary);
	t.after(w.stop);
	const sampler = new ProfileSampler({
		frequency: program.frequency,
		pids: [w.pid],
		windowMs: Number.MAX_SAFE_INTEGER,
		tickMs: 0,
		unwind: 'auto',
	});
	t.after(() => void sampler.stop());
	await sampler.unwinding!.tracker.settled();
	// Samples deferred meanwhile are walked again in the next drain and counted in the one after.
	await sampler.tick();
	const before = (await sampler.tick()).counters;
	sampler.closeWindow();
	await untilOnCpu(w.pid, program.cpuSeconds);
	const after = (await sampler.tick()).counters;
	const stacks = foldedStacks(toFolded(filterProfile(sampler.closeWindow(), { pids: [w.pid] }))).map((s) => ({
		user: s.frames.slice(1).filter((f) => !f.endsWith('_[k]')),
		inKernel: s.frames.some((f) => f.endsWith('_[k]')),
		count: s.count,
	}));
	return { stacks, grew: (counter) => after[counter] - before[counter] };
}
