import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const fixturesDir = fileURLToPath(new URL('../fixtures', import.meta.url));

/**
 * fixtures/split-60-40.{c,js} spend this share (percent) of their CPU time in hot_a (hotA), the
 * rest in hot_b (hotB).
 */
export const HOT_A_SHARE = 60;

/**
 * Flags that keep every frame walkable by a frame-pointer unwinder. clang, not gcc: gcc 12 still
 * drops the frame of leaf functions, which hides the leaf's caller (perf record -g shows the same).
 */
export const FRAME_POINTER_FLAGS = ['-O0', '-fno-omit-frame-pointer', '-mno-omit-leaf-frame-pointer', '-fno-optimize-sibling-calls'];

/**
 * How Debian builds its packages: gcc -O2, no frame pointers. Sibling calls stay calls, so each
 * function keeps a frame a correct unwinder must find; libc calls go through their PLT stubs.
 */
export const NO_FRAME_POINTER_FLAGS = ['-O2', '-fomit-frame-pointer', '-fno-optimize-sibling-calls', '-fno-builtin'];

/**
 * Compiles fixtures/<name>.c into a temp dir (clang with frame pointers, unless told otherwise),
 * linked with `libs` (`-lssl`, say); returns the binary and a cleanup.
 */
export function compileFixture(
	name: string,
	options: { compiler?: 'clang' | 'gcc'; flags?: readonly string[]; libs?: readonly string[] } = {},
): { path: string; cleanup: () => void } {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-fixture-'));
	const path = join(dir, name);
	execFileSync(options.compiler ?? 'clang', [
		...(options.flags ?? FRAME_POINTER_FLAGS),
		'-o',
		path,
		join(fixturesDir, `${name}.c`),
		...(options.libs ?? []),
	]);
	return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Builds fixtures/<name>.go with Go's toolchain into a temp dir, twice: as `go build` leaves it
 * (with DWARF, so .debug_frame, and a .symtab), and stripped (-s -w: Go's function table alone).
 */
export function buildGoFixture(name: string): { path: string; stripped: string; cleanup: () => void } {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-fixture-'));
	const env = { ...process.env, GOCACHE: join(dir, 'cache'), GOPATH: join(dir, 'gopath'), GO111MODULE: 'off', CGO_ENABLED: '0' };
	const path = join(dir, name);
	const stripped = `${path}-stripped`;
	const source = join(fixturesDir, `${name}.go`);
	execFileSync('go', ['build', '-o', path, source], { env });
	execFileSync('go', ['build', '-ldflags=-s -w', '-o', stripped, source], { env });
	return { path, stripped, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts a workload and resolves once it printed `ready`. Kill it with `stop()`. */
export async function startWorkload(cmd: string, args: string[] = []): Promise<{ child: ChildProcess; pid: number; stop: () => void }> {
	// In a temp dir: node with --perf-basic-prof may leave log files in its working directory.
	const child = spawn(cmd, args, { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'inherit'] });
	const stop = () => void child.kill('SIGKILL');
	await new Promise<void>((resolve, reject) => {
		let out = '';
		child.stdout!.on('data', (d: Buffer) => {
			out += d.toString();
			if (out.includes('ready')) resolve();
		});
		child.once('exit', (code) => reject(new Error(`${cmd} exited with ${code} before it was ready`)));
		setTimeout(() => reject(new Error(`${cmd} was not ready within 10 s`)), 10_000).unref();
	});
	return { child, pid: child.pid!, stop };
}

/** Runs a program to completion and returns its standard output; throws with stderr on failure. */
export async function runCommand(cmd: string, args: string[]): Promise<string> {
	const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '';
	let err = '';
	child.stdout.on('data', (d: Buffer) => (out += d.toString()));
	child.stderr.on('data', (d: Buffer) => (err += d.toString()));
	const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
	if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}: ${err}`);
	return out;
}

/** For each name, the share (0-100) of the samples whose stack contains a frame matching it. */
export function stackShares(stacks: Iterable<{ frames: string[]; count: number }>, names: Record<string, RegExp>) {
	let total = 0;
	const hits: Record<string, number> = Object.fromEntries(Object.keys(names).map((k) => [k, 0]));
	for (const { frames, count } of stacks) {
		total += count;
		for (const [key, re] of Object.entries(names)) if (frames.some((f) => re.test(f))) hits[key]! += count;
	}
	const shares: Record<string, number> = {};
	for (const key of Object.keys(names)) shares[key] = total ? (100 * hits[key]!) / total : 0;
	return { total, shares };
}

/** Folded text (`comm;root;...;leaf COUNT`) as stacks, root first, comm first. */
export function foldedStacks(folded: string): { frames: string[]; count: number }[] {
	return folded
		.split('\n')
		.filter(Boolean)
		.map((line) => {
			const at = line.lastIndexOf(' ');
			return { frames: line.slice(0, at).split(';'), count: Number(line.slice(at + 1)) };
		});
}

/**
 * The nanoseconds a process's main thread has run on a CPU, by the scheduler's own account (user
 * and system time alike): the workloads do their work there.
 */
export function onCpuNs(pid: number): number {
	return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
}

/**
 * Resolves once the process's main thread has run `seconds` more on a CPU than when called,
 * polling the scheduler's account; a loaded machine makes this take longer, never count less.
 * Throws when `timeoutMs` pass first, or the process is gone.
 */
export async function untilOnCpu(pid: number, seconds: number, timeoutMs = 240_000): Promise<void> {
	const start = onCpuNs(pid);
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const ran = (onCpuNs(pid) - start) / 1e9;
		if (ran >= seconds) return;
		if (Date.now() > deadline) throw new Error(`pid ${pid} ran only ${ran.toFixed(2)} of ${seconds} s on a CPU in ${timeoutMs / 1000} s`);
		await sleep(100);
	}
}

/** A running `perf record` (see startPerfRecord); stop() ends it and reads its samples back. */
export interface PerfRecording {
	stop(): Promise<{ frames: string[]; count: number }[]>;
}

/**
 * The oracle: `perf record -g` (or `--call-graph dwarf`, which copies 16 KiB of user stack per
 * sample and unwinds it afterwards from .eh_frame; user-mode samples only, so no kernel frames
 * mix into the chains) on the same process until stop(), read back through `perf script`. Each
 * sample's frames come leaf first, as perf prints them.
 */
export function startPerfRecord(pid: number, frequency: number, options: { callGraph?: 'fp' | 'dwarf' } = {}): PerfRecording {
	const callGraph = options.callGraph === 'dwarf' ? ['--call-graph', 'dwarf,16384', '--all-user'] : ['-g'];
	const dir = mkdtempSync(join(tmpdir(), 'firesight-perf-'));
	const data = join(dir, 'perf.data');
	const p = spawn('perf', ['record', '-q', '-F', String(frequency), ...callGraph, '-p', String(pid), '-o', data], { stdio: 'ignore' });
	// perf ends on SIGINT with 130 once it has written its data, or with 0 when the process exits.
	const exited = new Promise<void>((resolve, reject) =>
		p.once('exit', (code, signal) =>
			code === 0 || code === 130 || signal === 'SIGINT' ? resolve() : reject(new Error(`perf record exited with ${code ?? signal}`)),
		),
	);
	exited.catch(() => {});
	return {
		async stop() {
			try {
				p.kill('SIGINT');
				await exited;
				const script = execFileSync('perf', ['script', '-i', data, '-F', 'ip,sym'], {
					maxBuffer: 256 << 20,
					stdio: ['ignore', 'pipe', 'ignore'],
				}).toString();
				return script
					.split('\n\n')
					.map((block) =>
						block
							.split('\n')
							.map((l) => l.trim().split(/\s+/)[1] ?? '')
							.filter(Boolean),
					)
					.filter((frames) => frames.length > 0)
					.map((frames) => ({ frames, count: 1 }));
			} finally {
				rmSync(dir, { recursive: true, force: true });
			}
		},
	};
}

/**
 * Samples until the process's main thread has run `cpuSeconds` on a CPU: `start` begins the
 * sampling and resolves once it samples, with what ends it and returns what it sampled. On a
 * loaded machine this takes longer, and the sample counts stay what the CPU time allows. The
 * sampling is ended even when the deadline passes first.
 */
export async function sampleUntilOnCpu<T>(
	pid: number,
	cpuSeconds: number,
	start: () => Promise<() => Promise<T>>,
	timeoutMs?: number,
): Promise<T> {
	const stop = await start();
	const late = await untilOnCpu(pid, cpuSeconds, timeoutMs).then(
		() => undefined,
		(err: unknown) => err,
	);
	const sampled = await stop();
	if (late !== undefined) throw late;
	return sampled;
}

/**
 * Ours and perf's on one process, as sampleUntilOnCpu: perf starts once ours samples, and both
 * end together, so their counts compare too.
 */
export async function sampleWithPerf<T>(
	pid: number,
	options: { frequency: number; cpuSeconds: number; callGraph?: 'fp' | 'dwarf'; timeoutMs?: number },
	start: () => Promise<() => Promise<T>>,
): Promise<{ ours: T; perf: { frames: string[]; count: number }[] }> {
	const [ours, perf] = await sampleUntilOnCpu(
		pid,
		options.cpuSeconds,
		async () => {
			const stopOurs = await start();
			const perf = startPerfRecord(pid, options.frequency, { callGraph: options.callGraph });
			return () => Promise.all([stopOurs(), perf.stop()]);
		},
		options.timeoutMs,
	);
	return { ours, perf };
}
