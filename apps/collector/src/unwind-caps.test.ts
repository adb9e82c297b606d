/**
 * The unwinder's bounds driven past by real processes: the mappings one process entry holds (at
 * its default, by a process with more executable mappings than it), the files the mapping
 * tracker knows at once (loaded small through its maxFiles option), and the rows one file's table
 * may take (half the row budget: a big dependency is counted, and the rest of the host keeps its
 * tables). Each loss is counted under the name docs/limits.md lists, and the profiler goes on
 * delivering every sample.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { DEFAULT_UNWIND_ROWS, Profiler, type DrainedWindow, type UnwindMode } from '@firesight/native';
import { bpfSkip } from '@firesight/testing/bpf-test-gate';
import { MappingTracker } from './profiling/unwind/mapping-tracker.ts';
import { MAX_TABLE_ROWS } from './profiling/unwind/table-build-job.ts';
import { TableBuilder } from './profiling/unwind/table-builder.ts';

const skip = bpfSkip();

/** Executable mappings one process entry of the walker holds (UNWIND_MAX_MAPPINGS, bpf/unwind.h). */
const UNWIND_MAX_MAPPINGS = 256;

/** A profiler of one process with the collector's mapping tracker and table builder behind it. */
function unwinder(
	t: TestContext,
	pid: number,
	unwind: UnwindMode,
	options: { maxFiles?: number; maxSectionBytes?: number; deferSectionBytes?: number } = {},
): { profiler: Profiler; tracker: MappingTracker } {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-unwind-caps-'));
	const { maxSectionBytes, ...trackerOptions } = options;
	const builder = new TableBuilder(dir, maxSectionBytes !== undefined ? { maxSectionBytes } : {});
	const profiler = new Profiler({ frequency: 199, pids: [pid], unwind });
	const tracker = new MappingTracker({
		target: profiler,
		build: (paths, o) => builder.build(paths, o),
		...trackerOptions,
	});
	t.after(async () => {
		tracker.close();
		await builder.close();
		profiler.close();
		rmSync(dir, { recursive: true, force: true });
	});
	tracker.track(pid);
	return { profiler, tracker };
}

/** Drains until `done` holds of the totals; every window's samples are delivered or counted lost. */
async function drainUntil(
	what: string,
	profiler: Profiler,
	tracker: MappingTracker,
	done: (w: DrainedWindow) => boolean,
): Promise<DrainedWindow> {
	const deadline = Date.now() + 60_000;
	for (;;) {
		await sleep(200);
		const w = await profiler.drain();
		const delivered = w.counts.reduce((n, c) => n + c.count, 0);
		assert.equal(
			delivered,
			w.counters.samples - w.counters.countsMapFull - w.counters.unwindDeferred + w.replayed,
			'taken = delivered + counted lost, a deferred sample in the window that walks it again',
		);
		for (const pid of w.unmappedPids) tracker.track(pid);
		for (const fileId of w.wantedFiles) tracker.want(fileId);
		tracker.sweep();
		if (done(w)) return w;
		assert.ok(Date.now() < deadline, `not within 60 s: ${what}`);
	}
}

function kill(t: TestContext, c: ChildProcess): void {
	t.after(() => c.kill('SIGKILL'));
}

/**
 * A python busy loop that first maps 300 small executable regions, each between two read-only
 * ones so that none merges with another: with its own code and libraries, more than the 256
 * mappings a process entry holds. Sorted by address the regions come before the libraries, so
 * libc's frames (where every stack starts) are past the ones kept.
 */
const MANY_MAPPINGS = `
import mmap, sys
keep = []
for i in range(300):
	keep.append(mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_EXEC))
	keep.append(mmap.mmap(-1, 4096, prot=mmap.PROT_READ))
print('ready', flush=True)
while True:
	pass
`;

test(
	`unwind: past ${UNWIND_MAX_MAPPINGS} mappings in a process, the walk ends where the kept ones do, counted as unwindMappingsFull`,
	{ skip },
	async (t) => {
		const py = spawn('python3', ['-c', MANY_MAPPINGS], { stdio: ['ignore', 'pipe', 'inherit'] });
		kill(t, py);
		await new Promise<void>((resolve, reject) => {
			py.once('exit', (code) => reject(new Error(`python exited with ${code}`)));
			py.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
		});
		// 'dwarf' stops and counts where no mapping covers a pc ('auto' goes on with frame pointers).
		const { profiler, tracker } = unwinder(t, py.pid!, 'dwarf');
		let full = 0;
		let delivered = 0;
		await drainUntil('unwindMappingsFull counted, with samples of the process delivered', profiler, tracker, (w) => {
			full += w.counters.unwindMappingsFull;
			delivered += w.counts.filter((c) => c.pid === py.pid).reduce((n, c) => n + c.count, 0);
			return full > 0 && delivered > 0;
		});
		assert.ok((tracker.mappingsOf(py.pid!)?.length ?? 0) > UNWIND_MAX_MAPPINGS, 'the tracker gave the walker more than an entry holds');
	},
);

test('unwind: past maxFiles, a mapped file is walked without a table, counted as unwindFilesDropped', { skip }, async (t) => {
	// A shell loop maps dash, libc and the loader: three files against room for one.
	const sh = spawn('nice', ['-n', '19', 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' });
	kill(t, sh);
	const { profiler, tracker } = unwinder(t, sh.pid!, 'auto', { maxFiles: 1 });
	let delivered = 0;
	await drainUntil('unwindFilesDropped counted, with samples of the process delivered', profiler, tracker, (w) => {
		delivered += w.counts.filter((c) => c.pid === sh.pid).reduce((n, c) => n + c.count, 0);
		return tracker.counters.unwindFilesDropped > 0 && delivered > 0;
	});
	assert.ok(tracker.stats().files <= 1, `${tracker.stats().files} files known with room for one`);
});

/**
 * Next.js's SWC addon, which the dashboard's server maps: 8 MiB of unwind info and 1.6 million
 * rows, three quarters of the walker's row budget, in a process that hardly runs it.
 */
const SWC_ADDON = createRequire(import.meta.url).resolve('@next/swc-linux-x64-gnu');
const NODE_ROWS = 300_000;

/** A node process that maps the SWC addon and then keeps busy in its own code. */
async function nodeWithSwc(t: TestContext): Promise<number> {
	const script = `require(${JSON.stringify(SWC_ADDON)}); console.log('ready'); for (;;) {}`;
	const node = spawn('nice', ['-n', '19', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
	kill(t, node);
	await new Promise<void>((resolve, reject) => {
		node.once('exit', (code) => reject(new Error(`node exited with ${code}`)));
		node.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
	});
	assert.ok(readFileSync(`/proc/${node.pid}/maps`, 'utf8').includes('next-swc'), 'the process maps the SWC addon');
	return node.pid!;
}

/** The start and end of the executable mapping of the file whose path has `name`. */
function codeRange(pid: number, name: string): { start: bigint; end: bigint } {
	const line = readFileSync(`/proc/${pid}/maps`, 'utf8')
		.split('\n')
		.find((l) => l.includes(name) && /^\S+ ..x/.test(l));
	assert.ok(line !== undefined, `process ${pid} maps ${name} executable`);
	const [start, end] = line
		.split(' ')[0]!
		.split('-')
		.map((x) => BigInt(`0x${x}`));
	return { start: start!, end: end! };
}

test(
	"a big table waits until a sample lands in its file: Next.js's SWC addon, mapped and never run, is not built and nothing is counted",
	{ skip },
	async (t) => {
		const pid = await nodeWithSwc(t);
		const swc = codeRange(pid, 'next-swc');
		const { profiler, tracker } = unwinder(t, pid, 'auto');
		await tracker.settled();
		const described = tracker.mappingsOf(pid)?.find((m) => m.start === swc.start);
		assert.equal(described?.kind, 'pending', 'the addon is described as pending');
		assert.ok((described?.fileId ?? 0) > 0, 'with the id its samples would want its table by');
		// The process runs node's code, never the addon's, for a good number of samples.
		let delivered = 0;
		await drainUntil('500 samples of the process delivered', profiler, tracker, (w) => {
			delivered += w.counts.filter((c) => c.pid === pid).reduce((n, c) => n + c.count, 0);
			return delivered >= 500;
		});
		await tracker.settled();
		assert.equal(tracker.counters.unwindTablesFull, 0, 'nothing refused');
		assert.equal(tracker.stats().deferred, 1, 'the addon still waits');
		const rows = tracker.stats().rows;
		assert.ok(rows > NODE_ROWS && rows <= MAX_TABLE_ROWS, `${rows} rows loaded: node's and its libraries'`);
	},
);

test(
	"one file's table takes at most half the row budget: Next.js's SWC addon, when wanted, is counted as unwindTablesFull, node's table loads",
	{ skip },
	async (t) => {
		const pid = await nodeWithSwc(t);
		// Built as soon as the process is read, as a wanted table is.
		const capped = unwinder(t, pid, 'auto', { deferSectionBytes: Number.POSITIVE_INFINITY });
		await capped.tracker.settled();
		const loaded = capped.tracker.stats();
		assert.equal(capped.tracker.counters.unwindTablesFull, 1, 'the SWC addon counted once, and nothing else');
		assert.ok(loaded.rows > NODE_ROWS && loaded.rows <= MAX_TABLE_ROWS, `${loaded.rows} rows loaded: node's and its libraries'`);

		// With the whole budget as the cap, the addon's table is built and loads: the cap refused it.
		const uncapped = unwinder(t, pid, 'auto', { maxSectionBytes: DEFAULT_UNWIND_ROWS * 8, deferSectionBytes: Number.POSITIVE_INFINITY });
		await uncapped.tracker.settled();
		assert.equal(uncapped.tracker.counters.unwindTablesFull, 0);
		assert.ok(uncapped.tracker.stats().rows > MAX_TABLE_ROWS, `${uncapped.tracker.stats().rows} rows with the addon's`);
	},
);

/**
 * LLVM's interpreter running an endless loop (with lli's default JIT the option is ignored, and the
 * loop runs as JIT code): lli's own code is small, and the time goes to
 * libLLVM (5 MiB of unwind info, 950,000 rows, built without frame pointers), whose table waits
 * until a sample lands there.
 */
const LLI = '/usr/lib/llvm-14/bin/lli';
const LLVM_ROWS = 900_000;
const ENDLESS_LOOP = `define i32 @main() {
entry:
  br label %loop
loop:
  %i = phi i64 [0, %entry], [%n, %loop]
  %n = add i64 %i, 1
  br label %loop
}
`;

test(
	'a big table whose code runs is loaded once a sample lands in it, and its stacks are whole from then on',
	{ skip: skip || (!existsSync(LLI) && 'no lli-14') },
	async (t) => {
		const dir = mkdtempSync(join(tmpdir(), 'firesight-unwind-lli-'));
		t.after(() => rmSync(dir, { recursive: true, force: true }));
		writeFileSync(join(dir, 'loop.ll'), ENDLESS_LOOP);
		const lli = spawn('nice', ['-n', '19', LLI, '--jit-kind=mcjit', '-force-interpreter', join(dir, 'loop.ll')], { stdio: 'ignore' });
		kill(t, lli);
		let llvm: { start: bigint; end: bigint } | undefined;
		for (const deadline = Date.now() + 30_000; llvm === undefined; await sleep(100)) {
			assert.ok(Date.now() < deadline, 'lli maps libLLVM within 30 s');
			try {
				if (readFileSync(`/proc/${lli.pid}/maps`, 'utf8').includes('libLLVM')) llvm = codeRange(lli.pid!, 'libLLVM');
			} catch {
				// not started yet
			}
		}
		const own = codeRange(lli.pid!, '/bin/lli');
		const { profiler, tracker } = unwinder(t, lli.pid!, 'auto');
		await tracker.settled();
		assert.ok(tracker.stats().rows < LLVM_ROWS, `${tracker.stats().rows} rows before a sample wants libLLVM's`);
		assert.equal(tracker.mappingsOf(lli.pid!)?.find((m) => m.start === llvm.start)?.kind, 'pending');

		// Its samples want the table; until it is in, the stacks cut in it count as pending.
		let pending = 0;
		await drainUntil("libLLVM's table loaded", profiler, tracker, (w) => {
			pending += w.counters.unwindTablePending;
			return tracker.stats().rows > LLVM_ROWS;
		});
		assert.ok(pending > 0, 'the samples before the table was in counted as unwindTablePending');
		assert.equal(tracker.counters.unwindTablesFull, 0);
		// A window that began after the mappings were given to the walker, then the stacks: a leaf in
		// libLLVM reaches lli's _start, the outermost frame.
		await tracker.settled();
		await profiler.drain();
		let inLlvm = 0;
		let whole = 0;
		let cut: bigint[] | undefined;
		await drainUntil('300 samples with their leaf in libLLVM', profiler, tracker, (w) => {
			for (const c of w.counts) {
				if (c.pid !== lli.pid) continue;
				const ips = w.stacks.get(c.userStackId);
				const leaf = ips?.[0];
				if (ips === undefined || leaf === undefined || leaf < llvm.start || leaf >= llvm.end) continue;
				inLlvm += c.count;
				const outer = ips.at(-1)!;
				if (outer >= own.start && outer < own.end) whole += c.count;
				else cut ??= ips;
			}
			return inLlvm >= 300;
		});
		const summary = `${whole} of ${inLlvm} stacks with their leaf in libLLVM reached lli's _start; e.g. ${cut?.map((ip) => ip.toString(16)).join(';') ?? '(none cut)'}`;
		t.diagnostic(`${summary}; ${pending} unwindTablePending before the table was in`);
		assert.ok(whole >= 0.9 * inLlvm, summary);
	},
);
