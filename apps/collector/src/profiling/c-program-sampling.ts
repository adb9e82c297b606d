import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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
export async function sampleCProgram(t: TestContext, program: CProgram & { cpuSeconds: number }): Promise<SampledProgram> {
	const w = await startWorkload(compile(t, program));
	t.after(w.stop);
	return sampleRunning(t, w.pid, program);
}

/**
 * A running process's stacks, sampled as sampleCProgram's are. `started` runs once its tables
 * are in, as the samples kept begin (to start an oracle beside them), and what it returns runs
 * when they end.
 */
export async function sampleRunning(
	t: TestContext,
	pid: number,
	options: { frequency: number; cpuSeconds: number },
	started: () => () => Promise<void> = () => async () => {},
): Promise<SampledProgram> {
	const sampler = new ProfileSampler({
		frequency: options.frequency,
		pids: [pid],
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
	const ended = started();
	await untilOnCpu(pid, options.cpuSeconds);
	const after = (await sampler.tick()).counters;
	await ended();
	return { stacks: sampledStacks(sampler.closeWindow(), pid), grew: (counter) => after[counter] - before[counter] };
}

/**
 * The program exec'd by a stopped shell the sampler was told to profile by pid: the walker knows
 * the shell's mappings, not the program's, so the program's samples until it is read again are
 * deferred, and walked again from their copies once its table is in. The stacks of its first
 * second and a half, the replayed ones among them.
 */
export async function sampleCProgramFromExec(
	t: TestContext,
	program: CProgram & { env?: Record<string, string> },
): Promise<SampledProgram> {
	const binary = compile(t, program);
	const shell = spawn('sh', ['-c', 'kill -STOP $$; exec "$0"', binary], { stdio: 'ignore', env: { ...process.env, ...program.env } });
	const pid = shell.pid!;
	t.after(() => void shell.kill('SIGKILL'));
	for (const deadline = Date.now() + 10_000; !stopped(pid); await sleep(10))
		if (Date.now() > deadline) throw new Error('the shell did not stop itself');
	const sampler = new ProfileSampler({
		frequency: program.frequency,
		pids: [pid],
		windowMs: Number.MAX_SAFE_INTEGER,
		tickMs: 0,
		unwind: 'auto',
	});
	t.after(() => void sampler.stop());
	const before = (await sampler.tick()).counters; // the pid's filter and the shell's mappings are in
	process.kill(pid, 'SIGCONT');
	let after = before;
	for (let i = 0; i < 3; i++) {
		await sleep(500);
		after = (await sampler.tick()).counters;
	}
	return { stacks: sampledStacks(sampler.closeWindow(), pid), grew: (counter) => after[counter] - before[counter] };
}

/** Whether a process is stopped (its state in /proc/PID/stat is T). */
export const stopped = (pid: number) => /^\d+ \(.*\) T /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

interface CProgram {
	name: string;
	source: string;
	ccFlags?: string[];
	frequency: number;
}

function compile(t: TestContext, program: CProgram): string {
	const dir = mkdtempSync(join(tmpdir(), `firesight-${program.name}-`));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const binary = join(dir, program.name);
	writeFileSync(`${binary}.c`, program.source);
	execFileSync('cc', ['-O2', ...(program.ccFlags ?? []), '-o', binary, `${binary}.c`]);
	return binary;
}

function sampledStacks(profile: ReturnType<ProfileSampler['closeWindow']>, pid: number): SampledStack[] {
	return foldedStacks(toFolded(filterProfile(profile, { pids: [pid] }))).map((s) => ({
		user: s.frames.slice(1).filter((f) => !f.endsWith('_[k]')),
		inKernel: s.frames.some((f) => f.endsWith('_[k]')),
		count: s.count,
	}));
}
