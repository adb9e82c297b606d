/**
 * Known-answer processes for the symbolizer's tests: compile fixtures/symbolize/* into a temporary
 * directory and run them; they print the addresses of their own functions.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'symbolize');
const CFLAGS = ['-O0', '-g0', '-fno-omit-frame-pointer', '-mno-omit-leaf-frame-pointer', '-fno-optimize-sibling-calls'];

export interface Built {
	dir: string;
	pie: string;
	nopie: string;
	libLinked: string;
	libDl: string;
	cleanup(): void;
}

let built: Built | undefined;

/** Builds target.c as PIE and non-PIE against a shared library, plus a dlopen-able one. Once. */
export function buildTargets(): Built {
	if (built !== undefined) return built;
	const dir = mkdtempSync(join(tmpdir(), 'fs-symbolize-'));
	const lib = join(FIXTURES, 'lib.c');
	const libLinked = join(dir, 'libfsfix.so');
	const libDl = join(dir, 'libfsdl.so');
	execFileSync('clang', [...CFLAGS, '-shared', '-fPIC', '-DFSFIX_NAME=fsfix_linked', '-o', libLinked, lib]);
	execFileSync('clang', [...CFLAGS, '-shared', '-fPIC', '-DFSFIX_NAME=fsfix_dl', '-o', libDl, lib]);
	const target = join(FIXTURES, 'target.c');
	const link = ['-L', dir, '-lfsfix', `-Wl,-rpath,${dir}`, '-ldl'];
	const pie = join(dir, 'target-pie');
	const nopie = join(dir, 'target-nopie');
	execFileSync('clang', [...CFLAGS, '-fPIE', '-pie', '-o', pie, target, ...link]);
	execFileSync('clang', [...CFLAGS, '-fno-pie', '-no-pie', '-o', nopie, target, ...link]);
	const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
	// Each test file runs in its own process: the build goes away with it.
	process.once('exit', cleanup);
	built = { dir, pie, nopie, libLinked, libDl, cleanup };
	return built;
}

export interface Running {
	proc: ChildProcessWithoutNullStreams;
	pid: number;
	/** Parsed `key=value` words of the first line (addresses as bigint). */
	info: Record<string, bigint>;
	/** Sends a command and resolves with the next printed line's words. */
	ask(cmd: string): Promise<Record<string, bigint>>;
	kill(): Promise<void>;
}

/** Starts a fixture that prints `key=value` words on its first line and waits on stdin. */
export async function run(bin: string, args: string[] = []): Promise<Running> {
	const proc = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
	const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
	const next = async (): Promise<Record<string, bigint>> => {
		const r = await lines.next();
		if (r.done === true) throw new Error(`${bin} exited before printing`);
		return parseWords(r.value);
	};
	const info = await next();
	const exited = new Promise<void>((resolve) => {
		if (proc.exitCode !== null || proc.signalCode !== null) resolve();
		else proc.once('exit', () => resolve());
	});
	return {
		proc,
		pid: Number(info.pid),
		info,
		ask: async (cmd) => {
			proc.stdin.write(cmd);
			return next();
		},
		kill: async () => {
			proc.kill('SIGKILL');
			await exited;
		},
	};
}

function parseWords(line: string): Record<string, bigint> {
	const out: Record<string, bigint> = {};
	for (const w of line.trim().split(/\s+/)) {
		const eq = w.indexOf('=');
		if (eq > 0) out[w.slice(0, eq)] = BigInt(w.slice(eq + 1));
	}
	return out;
}

/** `nm --defined-only -S` text symbols that have a size: name -> [start, size]. */
export function nmFunctions(path: string, dynamic = false): Map<string, [bigint, bigint]> {
	const args = ['--defined-only', '-S', ...(dynamic ? ['-D'] : []), path];
	const out = new Map<string, [bigint, bigint]>();
	for (const line of execFileSync('nm', args, { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n')) {
		const f = line.trim().split(/\s+/);
		if (f.length !== 4 || !/^[tTiW]$/.test(f[2]!)) continue;
		out.set(f[3]!.replace(/@.*$/, ''), [BigInt(`0x${f[0]}`), BigInt(`0x${f[1]}`)]);
	}
	return out;
}
