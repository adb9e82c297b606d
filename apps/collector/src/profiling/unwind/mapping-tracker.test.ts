import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MappingTracker, type UnwindMapping, type UnwindTarget } from './mapping-tracker.ts';
import type { BuildOptions, TableBuildResult } from './table-builder.ts';

/** The four Profiler calls, recorded; loadUnwindTable refuses past `rowBudget` rows. */
class FakeProfiler implements UnwindTarget {
	readonly tables = new Map<number, number>();
	readonly loads: number[] = [];
	readonly unloads: number[] = [];
	readonly processes = new Map<number, readonly UnwindMapping[]>();
	readonly removed: number[] = [];
	constructor(readonly rowBudget = Infinity) {}
	loadUnwindTable(fileId: number, table: Uint8Array): void {
		const used = [...this.tables.values()].reduce((a, b) => a + b, 0);
		if (used + table.length > this.rowBudget) throw Object.assign(new Error('no room for the table'), { code: 'unwind-full' });
		this.tables.set(fileId, table.length);
		this.loads.push(fileId);
	}
	unloadUnwindTable(fileId: number): void {
		this.tables.delete(fileId);
		this.unloads.push(fileId);
	}
	setProcessMappings(pid: number, mappings: readonly UnwindMapping[]): void {
		this.processes.set(pid, mappings);
	}
	removeProcess(pid: number): void {
		this.processes.delete(pid);
		this.removed.push(pid);
	}
}

const TEXT = [{ type: 1, flags: 5, offset: 0x1000n, vaddr: 0x1000n, filesz: 0x100000n, memsz: 0x100000n }];

/** A /proc of our own making, and builds that finish when the test says so. */
function setup(options: { rowBudget?: number; graceMs?: number; maxQueued?: number } = {}) {
	const root = mkdtempSync(join(tmpdir(), 'firesight-proc-'));
	let now = 1_000_000;
	const builds: { paths: readonly string[]; options: BuildOptions | undefined; finish: (r: TableBuildResult) => void }[] = [];
	const target = new FakeProfiler(options.rowBudget);
	const tracker = new MappingTracker({
		target,
		procRoot: root,
		graceMs: options.graceMs ?? 30_000,
		...(options.maxQueued !== undefined ? { maxQueued: options.maxQueued } : {}),
		now: () => now,
		build: (paths, options) => new Promise((finish) => builds.push({ paths, options, finish })),
	});
	const maps = (pid: number, text: string) => {
		mkdirSync(join(root, String(pid)), { recursive: true });
		writeFileSync(join(root, String(pid), 'maps'), text);
	};
	const exit = (pid: number) => rmSync(join(root, String(pid)), { recursive: true, force: true });
	const table = (key: string, rows = 100): TableBuildResult => ({
		ok: true,
		key,
		segments: TEXT,
		bytes: new Uint8Array(rows),
		rows,
		from: 'built',
		ms: 1,
	});
	const idle = () => new Promise<void>((r) => setImmediate(r));
	return {
		root,
		target,
		tracker,
		builds,
		maps,
		exit,
		table,
		idle,
		advance: (ms: number) => (now += ms),
		cleanup: () => rmSync(root, { recursive: true, force: true }),
	};
}

const lib = (start: number, ino = 99, dev = '08:01') =>
	`${start.toString(16)}-${(start + 0x10000).toString(16)} r-xp 00001000 ${dev} ${ino} /usr/lib/libx.so\n`;
const prog = (start: number) => `${start.toString(16)}-${(start + 0x1000).toString(16)} r-xp 00001000 08:01 7 /usr/bin/prog\n`;

test('one table per file, shared by every process that maps it, each with its own bias', async (t) => {
	const s = setup();
	t.after(s.cleanup);
	s.maps(10, prog(0x400000) + lib(0x7f0000001000) + '7f1000000000-7f1000100000 rwxp 00000000 00:00 0\n');
	s.maps(11, lib(0x7e0000001000));
	s.tracker.track(10);
	s.tracker.track(11);
	await s.idle();
	assert.equal(s.builds.length, 2, 'one build per file, not per process');
	// Nothing waits on a build: the JIT region is there at once, files as pending until their tables come.
	assert.deepEqual(
		s.target.processes.get(10)?.map((m) => m.kind),
		['pending', 'pending', 'jit'],
	);
	assert.match(s.builds[0]!.paths[0]!, /\/10\/map_files\/400000-401000$/);
	s.builds[0]!.finish(s.table('b-prog'));
	s.builds[1]!.finish(s.table('b-libx'));
	await s.tracker.settled();
	assert.equal(s.target.loads.length, 2);
	const p10 = s.target.processes.get(10)!;
	const p11 = s.target.processes.get(11)!;
	const libIn10 = p10.find((m) => m.start === 0x7f0000001000n)!;
	const libIn11 = p11.find((m) => m.start === 0x7e0000001000n)!;
	assert.equal(libIn10.kind, 'table');
	assert.equal(libIn10.fileId, libIn11.fileId, 'the same table');
	// Mapped at start with file offset 0x1000, whose segment is linked at 0x1000.
	assert.equal(libIn10.bias, 0x7f0000001000n - 0x1000n);
	assert.equal(libIn11.bias, 0x7e0000001000n - 0x1000n);
	assert.deepEqual(s.tracker.stats(), { processes: 2, files: 2, tables: 2, rows: 200, queued: 0, deferred: 0 });
});

test('a process is loading while its maps are queued or a table of its files is being built or loaded', async (t) => {
	const s = setup();
	t.after(s.cleanup);
	s.maps(10, prog(0x400000) + lib(0x7f0000001000));
	s.maps(11, lib(0x7e0000001000));
	assert.equal(s.tracker.loading(10), false, 'not asked for yet');
	s.tracker.track(10);
	assert.equal(s.tracker.loading(10), true, 'queued to be read');
	await s.idle();
	assert.equal(s.builds.length, 2);
	assert.equal(s.tracker.loading(10), true, 'its tables are being built');
	s.builds[0]!.finish(s.table('b-prog'));
	for (let i = 0; i < 5; i++) await s.idle();
	assert.equal(s.target.loads.length, 1, 'the first table is in');
	assert.equal(s.tracker.loading(10), true, 'one of its tables is still being built');
	s.builds[1]!.finish(s.table('b-libx'));
	await s.tracker.settled();
	assert.equal(s.tracker.loading(10), false, 'both tables are in');
	// Another process mapping a loaded file: nothing to wait for once read.
	s.tracker.track(11);
	await s.tracker.settled();
	assert.equal(s.tracker.loading(11), false);
	// A process gone before it was read is not loading: nothing is coming for it.
	s.exit(10);
	s.tracker.forget(10);
	s.maps(12, prog(0x400000));
	s.tracker.track(12);
	s.exit(12);
	await s.tracker.settled();
	assert.equal(s.tracker.loading(12), false);
});

test('a big table waits, described as pending under its id, until the walker wants it; then it is built and loaded once', async (t) => {
	const s = setup();
	t.after(s.cleanup);
	s.maps(10, lib(0x7f0000001000));
	s.tracker.track(10);
	await s.idle();
	assert.ok((s.builds[0]!.options?.deferAbove ?? 0) > 0, 'the first build may defer');
	s.builds[0]!.finish({ ok: false, error: 'big', deferred: true });
	await s.tracker.settled();
	const waiting = s.target.processes.get(10)![0]!;
	assert.equal(waiting.kind, 'pending');
	assert.ok(waiting.fileId > 0);
	assert.equal(s.tracker.stats().deferred, 1);
	s.tracker.want(waiting.fileId + 1000); // no such file: nothing
	await s.idle();
	assert.equal(s.builds.length, 1);
	s.tracker.want(waiting.fileId);
	s.tracker.want(waiting.fileId); // every sample there asks until the table is in
	await s.idle();
	assert.equal(s.builds.length, 2, 'built once');
	assert.equal(s.builds[1]!.options?.deferAbove, undefined, 'wanted: built whatever its size');
	s.builds[1]!.finish(s.table('b-big', 500));
	await s.tracker.settled();
	assert.equal(s.target.processes.get(10)![0]!.kind, 'table');
	assert.deepEqual(s.tracker.stats(), { processes: 1, files: 1, tables: 1, rows: 500, queued: 0, deferred: 0 });
	assert.equal(s.tracker.counters.unwindTablesFull, 0);
});

test('a wanted table no process maps any more waits for the next process that maps it', async (t) => {
	const s = setup();
	t.after(s.cleanup);
	s.maps(10, lib(0x7f0000001000));
	s.tracker.track(10);
	await s.idle();
	s.builds[0]!.finish({ ok: false, error: 'big', deferred: true });
	await s.tracker.settled();
	const id = s.target.processes.get(10)![0]!.fileId;
	s.tracker.forget(10);
	s.tracker.want(id);
	await s.idle();
	assert.equal(s.builds.length, 1, 'nothing to read it through');
	s.maps(11, lib(0x7e0000001000));
	s.tracker.track(11);
	await s.tracker.settled();
	assert.equal(s.target.processes.get(11)![0]!.fileId, id, 'still waiting, under the same id');
	s.tracker.want(id);
	await s.idle();
	assert.equal(s.builds.length, 2);
	assert.match(s.builds[1]!.paths[0]!, /\/11\//);
});

test('an exited process goes at once; its table stays for the grace period, then is unloaded', async (t) => {
	const s = setup({ graceMs: 30_000 });
	t.after(s.cleanup);
	s.maps(20, lib(0x7f0000001000));
	s.tracker.track(20);
	await s.idle();
	s.builds[0]!.finish(s.table('b-libx'));
	await s.tracker.settled();
	const fileId = s.target.processes.get(20)![0]!.fileId;

	s.exit(20);
	s.tracker.forget(20);
	assert.deepEqual(s.target.removed, [20]);
	s.advance(10_000);
	s.tracker.sweep();
	assert.deepEqual(s.target.unloads, [], 'kept within the grace period');

	// The next run of the same program maps the same file: no build, no load.
	s.maps(21, lib(0x7d0000001000));
	s.tracker.track(21);
	await s.tracker.settled();
	assert.equal(s.builds.length, 1);
	assert.equal(s.target.processes.get(21)![0]!.fileId, fileId);
	assert.equal(s.target.loads.length, 1);

	s.tracker.forget(21);
	s.advance(29_999);
	s.tracker.sweep();
	assert.deepEqual(s.target.unloads, []);
	s.advance(1);
	s.tracker.sweep();
	assert.deepEqual(s.target.unloads, [fileId]);
	assert.deepEqual(s.tracker.stats(), { processes: 0, files: 0, tables: 0, rows: 0, queued: 0, deferred: 0 });
});

test('a process that exits unannounced is forgotten by the next sweep that looks', async (t) => {
	const s = setup();
	t.after(s.cleanup);
	s.maps(31, '7f1000000000-7f1000100000 rwxp 00000000 00:00 0\n');
	s.tracker.track(31);
	await s.tracker.settled();
	s.tracker.sweep();
	s.exit(31);
	s.advance(1000);
	s.tracker.sweep();
	assert.ok(s.target.processes.has(31), 'not looked for yet');
	s.advance(5000);
	s.tracker.sweep();
	assert.ok(!s.target.processes.has(31));
	assert.equal(s.tracker.stats().processes, 0);
});

test('a kernel thread (empty maps) takes no slot in the walker', async (t) => {
	const s = setup();
	t.after(s.cleanup);
	s.maps(2, '');
	s.tracker.track(2);
	await s.tracker.settled();
	assert.ok(!s.target.processes.has(2));
	assert.equal(s.tracker.stats().processes, 0);
});

test('a process whose maps cannot be read any more is forgotten', async (t) => {
	const s = setup();
	t.after(s.cleanup);
	s.maps(30, '7f1000000000-7f1000100000 rwxp 00000000 00:00 0\n');
	s.tracker.track(30);
	await s.tracker.settled();
	assert.ok(s.target.processes.has(30));
	s.exit(30);
	s.advance(5000);
	s.tracker.track(30);
	await s.tracker.settled();
	assert.ok(!s.target.processes.has(30));
	assert.deepEqual(s.target.removed, [30]);
});

test('a table that does not fit is counted and its code walked with frame pointers, after idle tables make room', async (t) => {
	const s = setup({ rowBudget: 150, graceMs: 30_000 });
	t.after(s.cleanup);
	s.maps(40, lib(0x7f0000001000, 1));
	s.tracker.track(40);
	await s.idle();
	s.builds[0]!.finish(s.table('b-one', 100));
	await s.tracker.settled();
	s.tracker.forget(40);

	// Room for a second table only once the idle first one is given up.
	s.maps(41, lib(0x7f0000001000, 2));
	s.tracker.track(41);
	await s.idle();
	s.builds[1]!.finish(s.table('b-two', 100));
	await s.tracker.settled();
	assert.equal(s.target.unloads.length, 1, 'the idle table went first');
	assert.equal(s.target.processes.get(41)![0]!.kind, 'table');
	assert.equal(s.tracker.counters.unwindTablesFull, 0);

	// A third while the second is in use: no room, counted, frame pointers for it.
	s.maps(42, lib(0x7f0000001000, 3));
	s.tracker.track(42);
	await s.idle();
	s.builds[2]!.finish(s.table('b-three', 100));
	await s.tracker.settled();
	assert.equal(s.tracker.counters.unwindTablesFull, 1);
	assert.deepEqual(
		s.target.processes.get(42)!.map((m) => [m.kind, m.bias]),
		[['fp', 0x7f0000001000n - 0x1000n]],
	);
});

test('build failures are counted; a file without unwind info is walked with frame pointers and not counted', async (t) => {
	const s = setup();
	t.after(s.cleanup);
	s.maps(50, lib(0x7f0000001000, 1) + lib(0x7e0000001000, 2));
	s.tracker.track(50);
	await s.idle();
	s.builds[0]!.finish({ ok: false, error: 'not an ELF file' });
	s.maps(51, lib(0x7f0000001000, 3));
	s.tracker.track(51);
	await s.idle();
	s.builds[2]!.finish({ ok: false, error: 'too much unwind info', tooLarge: true });
	s.builds[1]!.finish({ ok: true, key: 'b-bare', segments: TEXT, bytes: undefined, rows: 1, from: 'built', ms: 1 });
	await s.tracker.settled();
	assert.deepEqual(
		s.target.processes.get(50)!.map((m) => m.kind),
		['fp', 'fp'],
	);
	assert.equal(s.tracker.counters.unwindBuildFailures, 1);
	assert.equal(s.tracker.counters.unwindTablesFull, 1, 'too large to fit is counted as not fitting');
	assert.equal(s.target.processes.get(51)![0]!.kind, 'fp');
	assert.equal(s.target.loads.length, 0);
});

test('a file whose first reader exited before it was read is read through another process that maps it', async (t) => {
	const s = setup();
	t.after(s.cleanup);
	s.maps(80, lib(0x7f0000001000));
	s.maps(81, lib(0x7e0000001000));
	s.tracker.track(80);
	s.tracker.track(81);
	await s.idle();
	assert.equal(s.builds.length, 1);
	assert.match(s.builds[0]!.paths[0]!, /\/80\//);
	s.exit(80);
	s.builds[0]!.finish({ ok: false, error: 'ENOENT', gone: true });
	await s.idle();
	await s.idle();
	assert.equal(s.builds.length, 2, 'asked again');
	assert.match(s.builds[1]!.paths[0]!, /\/81\//);
	s.builds[1]!.finish(s.table('b-libx'));
	await s.tracker.settled();
	assert.equal(s.target.processes.get(81)![0]!.kind, 'table');
	assert.ok(!s.target.processes.has(80));
	assert.equal(s.tracker.counters.unwindBuildFailures, 0, 'a process that exited is no broken file');
});

test('the same file under two identities (another mount namespace) shares one table by build-id', async (t) => {
	const s = setup();
	t.after(s.cleanup);
	s.maps(60, lib(0x7f0000001000, 5, '08:01'));
	s.maps(61, lib(0x7e0000001000, 9, '00:2a'));
	s.tracker.track(60);
	s.tracker.track(61);
	await s.idle();
	assert.equal(s.builds.length, 2);
	s.builds[0]!.finish(s.table('b-same'));
	s.builds[1]!.finish(s.table('b-same'));
	await s.tracker.settled();
	assert.equal(s.target.loads.length, 1);
	assert.equal(s.target.processes.get(60)![0]!.fileId, s.target.processes.get(61)![0]!.fileId);
	assert.equal(s.target.processes.get(61)![0]!.kind, 'table');
	assert.equal(s.tracker.stats().files, 1);
});

test('rescans: at most once per second per process, and unchanged maps are not sent again', async (t) => {
	const s = setup();
	t.after(s.cleanup);
	let sets = 0;
	const set = s.target.setProcessMappings.bind(s.target);
	s.target.setProcessMappings = (pid, m) => {
		sets++;
		set(pid, m);
	};
	s.maps(70, '7f1000000000-7f1000100000 rwxp 00000000 00:00 0\n');
	s.tracker.track(70);
	await s.tracker.settled();
	assert.equal(sets, 1);
	s.maps(70, '7f1000000000-7f1000100000 rwxp 00000000 00:00 0\n7f2000000000-7f2000100000 rwxp 00000000 00:00 0\n');
	s.tracker.track(70);
	await s.tracker.settled();
	assert.equal(s.target.processes.get(70)!.length, 1, 'too soon to read again');
	s.advance(1000);
	s.tracker.track(70);
	await s.tracker.settled();
	assert.equal(s.target.processes.get(70)!.length, 2, 'the new mapping is seen');
	assert.equal(sets, 2);
	s.advance(1000);
	s.tracker.track(70);
	await s.tracker.settled();
	assert.equal(sets, 2, 'the same maps are not sent again');
});

test('a burst of processes beyond the queue is counted, not queued without bound', async (t) => {
	const s = setup({ maxQueued: 8 });
	t.after(s.cleanup);
	for (let pid = 100; pid < 120; pid++) s.tracker.track(pid);
	assert.equal(s.tracker.stats().queued, 8);
	assert.equal(s.tracker.counters.unwindProcessesDropped, 12);
	await s.tracker.settled();
	assert.equal(s.tracker.stats().processes, 0, 'none of them existed');
});
