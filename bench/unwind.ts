/**
 * The cost of DWARF unwinding, side by side in one run: `firesight record --unwind dwarf` against
 * `--unwind fp`, bpftrace's frame-pointer profile and `perf record --call-graph dwarf`, all on the
 * whole host at 97 Hz while two copies of the gcc -O2 60/40 workload (no frame pointers) keep both
 * CPUs busy. For each: BPF time per sample (kernel.bpf_stats_enabled, over the profiler's own
 * perf_event programs), the workload's slowdown in its own CPU time (wall time on a shared machine
 * says more about the neighbours), the profiler's CPU and RSS after warm-up, the kernel memory of
 * its maps, and for perf the CPU its DWARF unwinding takes afterwards (`perf script`). Then the table build time and size for libc, libpython (in
 * Debian's python3 binary) and node. Conditions are interleaved over rounds and medians reported:
 * the machine is shared, so read the ratios.
 *
 * The warm-up (20 s by default) lets the dwarf collector read or build the tables of every program on
 * the host before it is measured: with 6 s the measured CPU was mostly that first loading.
 *
 * Then the cost of deferring a sample whose tables are not loaded yet: the sampling program's time
 * per sample with deferral on and off, in a profiler that describes no process (so every user
 * stack is pending: deferred, or walked by frame pointers and counted), and the replay program's
 * time per run with the collector's time per replay around it.
 *
 * Usage: npx tsx bench/unwind.ts [--rounds N] [--work ROUNDS] [--warmup SECONDS] [--no-write]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFERRED_TRIES, Profiler } from '@firesight/native';
import { compileFixture, NO_FRAME_POINTER_FLAGS } from '@firesight/testing/workloads';
import { buildElfUnwindTable } from '@firesight/unwind';
import { hasCommand, stopPeer } from './peer-process.ts';
import { cpuSeconds, rssMiB } from './proc-usage.ts';
import { writeResultsSection } from './results-file.ts';
import { benchArgs, nonNegativeNumber, wholeNumber } from './bench-args.ts';

const firesightBin = fileURLToPath(import.meta.resolve('@firesight/collector/bin/firesight.js'));

const { values } = benchArgs({
	name: 'unwind',
	summary:
		'The cost of DWARF unwinding against frame pointers, bpftrace and perf --call-graph dwarf, at 97 Hz with both CPUs busy (as root).',
	writes: 'the "DWARF unwinding cost" section of bench/RESULTS.md',
	options: {
		rounds: { check: wholeNumber(), placeholder: 'N', help: 'interleaved rounds of every profiler', default: '3' },
		work: { check: wholeNumber(), placeholder: 'ROUNDS', help: 'rounds of the workload per run', default: '3000' },
		warmup: { check: nonNegativeNumber(), placeholder: 'SECONDS', help: 'seconds a profiler runs before it is measured', default: '20' },
		'no-write': { flag: true, help: 'print the section only' },
	},
});
const ROUNDS = values.rounds;
const WARMUP_MS = values.warmup * 1000;
const WORK_ROUNDS = values.work;

interface Peer {
	name: string;
	/** Whether its BPF programs are its own (perf record has none). */
	bpf: boolean;
	start(): ChildProcess | undefined;
	available(): boolean;
}

const record = (unwind: string) => () =>
	spawn(process.execPath, [firesightBin, 'record', '--duration', '1h', '--frequency', '97', '--unwind', unwind, '--output', '/dev/null'], {
		stdio: 'ignore',
	});
const peers: Peer[] = [
	{ name: 'off', bpf: false, start: () => undefined, available: () => true },
	{ name: 'firesight --unwind fp', bpf: true, start: record('fp'), available: () => true },
	{ name: 'firesight --unwind dwarf', bpf: true, start: record('dwarf'), available: () => true },
	{
		name: "bpftrace 'profile:hz:97 { @[ustack] = count(); }'",
		bpf: true,
		start: () => spawn('bpftrace', ['-e', 'profile:hz:97 { @[ustack] = count(); }'], { stdio: 'ignore' }),
		available: () => hasCommand('bpftrace'),
	},
	{
		name: 'perf record -F 97 -a --call-graph dwarf',
		bpf: false,
		start: () => spawn('perf', ['record', '-q', '-F', '97', '-a', '--call-graph', 'dwarf', '-o', perfData], { stdio: 'ignore' }),
		available: () => hasCommand('perf'),
	},
];

interface BpfProg {
	id: number;
	type: string;
	run_time_ns?: number;
	run_cnt?: number;
	map_ids?: number[];
}

const bpftool = <T>(what: 'prog' | 'map'): T[] => JSON.parse(execFileSync('bpftool', [what, 'show', '-j']).toString()) as T[];
const progIds = () => new Set(bpftool<BpfProg>('prog').map((p) => p.id));

const scratch = mkdtempSync(join(tmpdir(), 'firesight-bench-unwind-'));
const perfData = join(scratch, 'perf.data');
const workload = compileFixture('split-60-40', { compiler: 'gcc', flags: NO_FRAME_POINTER_FLAGS });

/** Runs a command to its end under GNU time; returns its user + system CPU seconds. */
function timed(cmd: string, args: string[], options: { anyExit?: boolean } = {}): Promise<number> {
	const out = join(scratch, `time-${Math.random().toString(36).slice(2)}`);
	return new Promise((resolve, reject) => {
		const p = spawn('/usr/bin/time', ['-f', '%U %S', '-o', out, cmd, ...args], { stdio: 'ignore' });
		p.once('exit', (code) => {
			if (code !== 0 && !options.anyExit) return reject(new Error(`${cmd} exited ${code}`));
			// After a failure GNU time writes a line saying so first: the times are on the last.
			const [user, sys] = readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(/\s+/).map(Number);
			rmSync(out, { force: true });
			resolve(user! + sys!);
		});
	});
}

/** Two copies of the workload at once; their CPU seconds, summed. */
async function runWorkloadPair(): Promise<number> {
	const cpu = await Promise.all([0, 1].map(() => timed(workload.path, [String(WORK_ROUNDS)])));
	return cpu[0]! + cpu[1]!;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
type Measure = 'work' | 'cpu' | 'rss' | 'peak' | 'nsPerSample' | 'samples' | 'mapKiB' | 'after';
const series: Record<string, Record<Measure, number[]>> = {};
const push = (peer: string, key: Measure, v: number) =>
	(series[peer] ??= { work: [], cpu: [], rss: [], peak: [], nsPerSample: [], samples: [], mapKiB: [], after: [] })[key].push(v);

/** The summed run time and count of the given programs now. */
const runStatsOf = (ids: Set<number>) =>
	bpftool<BpfProg>('prog')
		.filter((p) => ids.has(p.id))
		.reduce((a, p) => ({ ns: a.ns + (p.run_time_ns ?? 0), cnt: a.cnt + (p.run_cnt ?? 0) }), { ns: 0, cnt: 0 });

interface DeferredCost {
	nsPerSample: number;
	samples: number;
	deferred: number;
	/** Deferred samples delivered after their replays. */
	delivered: number;
	replayRuns: number;
	nsPerReplay: number;
	/** The collector's wall time per replay: the map write, the test run and the read back. */
	usPerReplayCall: number;
}

/**
 * One profiler that describes no process, deferral on or off, while the workload pair runs: the
 * sampling program's time per sample, then (on) drains until every deferred sample has had its
 * last try, timing the replays.
 */
async function deferredCost(deferPending: boolean): Promise<DeferredCost> {
	const before = progIds();
	const profiler = new Profiler({ frequency: 97, unwind: 'auto', deferPending });
	try {
		const mine = bpftool<BpfProg>('prog').filter((p) => !before.has(p.id));
		const sampling = new Set(mine.filter((p) => p.type === 'perf_event').map((p) => p.id));
		const replay = new Set(mine.filter((p) => p.type === 'syscall').map((p) => p.id));
		const s0 = runStatsOf(sampling);
		const r0 = runStatsOf(replay);
		let drainMs = 0;
		let replays = 0;
		const drain = async () => {
			const t = performance.now();
			const w = await profiler.drain();
			drainMs += performance.now() - t;
			replays += w.replayed;
			return w;
		};
		// As the collector does: the ring is emptied every 50 ms, the maps drained every second.
		const poll = setInterval(() => deferPending && profiler.takeDeferred(), 50);
		const drains = setInterval(() => void drain(), 1000);
		await runWorkloadPair();
		clearInterval(poll);
		clearInterval(drains);
		const s1 = runStatsOf(sampling);
		// Each held sample is tried at every drain until its last try.
		let w = await drain();
		for (let i = 0; i < DEFERRED_TRIES; i++) w = await drain();
		const r1 = runStatsOf(replay);
		const replayRuns = r1.cnt - r0.cnt;
		return {
			nsPerSample: (s1.ns - s0.ns) / Math.max(1, s1.cnt - s0.cnt),
			samples: s1.cnt - s0.cnt,
			deferred: w.totals.unwindDeferred,
			delivered: replays,
			replayRuns,
			nsPerReplay: (r1.ns - r0.ns) / Math.max(1, replayRuns),
			// Drains without replays cost little beside: an upper bound.
			usPerReplayCall: (drainMs * 1000) / Math.max(1, replayRuns),
		};
	} finally {
		profiler.close();
	}
}

const statsPath = '/proc/sys/kernel/bpf_stats_enabled';
const statsBefore = readFileSync(statsPath, 'utf8').trim();
writeFileSync(statsPath, '1');
const available = peers.filter((p) => p.available());
let deferOff: DeferredCost;
let deferOn: DeferredCost;
try {
	for (let round = 0; round < ROUNDS; round++) {
		for (const peer of available) {
			const before = progIds();
			const child = peer.start();
			if (child) await new Promise((r) => setTimeout(r, WARMUP_MS)); // attach, build or read tables, settle
			const mine = peer.bpf ? bpftool<BpfProg>('prog').filter((p) => !before.has(p.id) && p.type === 'perf_event') : [];
			const ids = new Set(mine.map((p) => p.id));
			const runStats = () =>
				bpftool<BpfProg>('prog')
					.filter((p) => ids.has(p.id))
					.reduce((a, p) => ({ ns: a.ns + (p.run_time_ns ?? 0), cnt: a.cnt + (p.run_cnt ?? 0) }), { ns: 0, cnt: 0 });
			const s0 = runStats();
			const c0 = child?.pid ? cpuSeconds(child.pid) : undefined;
			const t0 = performance.now();
			const seconds = await runWorkloadPair();
			const mem = child?.pid ? rssMiB(child.pid) : undefined;
			const elapsed = (performance.now() - t0) / 1000;
			const c1 = child?.pid ? cpuSeconds(child.pid) : undefined;
			const s1 = runStats();
			if (peer.bpf) {
				const mapIds = new Set(mine.flatMap((p) => p.map_ids ?? []));
				const bytes = bpftool<{ id: number; bytes_memlock?: number }>('map')
					.filter((m) => mapIds.has(m.id))
					.reduce((a, m) => a + (m.bytes_memlock ?? 0), 0);
				push(peer.name, 'mapKiB', bytes / 1024);
				if (s1.cnt > s0.cnt) push(peer.name, 'nsPerSample', (s1.ns - s0.ns) / (s1.cnt - s0.cnt));
				push(peer.name, 'samples', s1.cnt - s0.cnt);
			}
			if (child?.pid && c0 !== undefined && c1 !== undefined) push(peer.name, 'cpu', (c1 - c0) / elapsed);
			if (mem) {
				push(peer.name, 'rss', mem.rss);
				push(peer.name, 'peak', mem.peak);
			}
			if (child) await stopPeer(child);
			// perf's DWARF unwinding happens afterwards, when the stacks it copied are read back.
			if (peer.name.startsWith('perf')) {
				push(
					peer.name,
					'after',
					await timed('sh', ['-c', `perf script --no-inline -F ip,sym -i ${perfData} > /dev/null 2>&1`], { anyExit: true }),
				);
				rmSync(perfData, { force: true });
			}
			push(peer.name, 'work', seconds);
			const s = series[peer.name]!;
			console.error(
				`round ${round + 1}/${ROUNDS} ${peer.name}: workload ${seconds.toFixed(2)} CPU s` +
					(s.nsPerSample.length ? `, ${s.nsPerSample.at(-1)!.toFixed(0)} ns per sample` : '') +
					(s.cpu.length ? `, ${(s.cpu.at(-1)! * 100).toFixed(2)}% of a core, ${s.rss.at(-1)!.toFixed(0)} MiB` : ''),
			);
		}
	}
	deferOff = await deferredCost(false);
	deferOn = await deferredCost(true);
	console.error(
		`deferral off: ${deferOff.nsPerSample.toFixed(0)} ns per sample; on: ${deferOn.nsPerSample.toFixed(0)} ns, ${deferOn.deferred} deferred, ${deferOn.replayRuns} replays at ${deferOn.nsPerReplay.toFixed(0)} ns`,
	);
} finally {
	writeFileSync(statsPath, statsBefore);
	workload.cleanup();
	rmSync(scratch, { recursive: true, force: true });
}

const base = median(series.off?.work ?? []);
const fpNs = median(series['firesight --unwind fp']?.nsPerSample ?? []);
const fmt = (xs: number[] | undefined, f: (x: number) => string) => (xs && xs.length ? f(median(xs)) : '—');
const rows = available.map((p) => {
	const s = series[p.name]!;
	const w = median(s.work);
	return `| ${p.name} | ${fmt(s.nsPerSample, (x) => `${x.toFixed(0)} ns (${(x / fpNs).toFixed(2)}× fp)`)} | ${w.toFixed(2)} s (${((w / base - 1) * 100).toFixed(2)}%) | ${fmt(s.cpu, (x) => `${(x * 100).toFixed(2)}% (${(Math.min(...s.cpu) * 100).toFixed(2)}–${(Math.max(...s.cpu) * 100).toFixed(2)}%)`)} | ${fmt(s.rss, (x) => `${x.toFixed(0)} MiB`)} / ${fmt(s.peak, (x) => `${x.toFixed(0)} MiB`)} | ${fmt(s.mapKiB, (x) => `${(x / 1024).toFixed(1)} MiB`)} | ${fmt(s.after, (x) => `${x.toFixed(2)} s`)} |`;
});

// Table builds: CPU time of the build alone (median of 3), and the table's size.
const tables = [
	['libc', '/lib/x86_64-linux-gnu/libc.so.6'],
	['libpython (python3.11)', '/usr/bin/python3.11'],
	['node', process.execPath],
].map(([name, path]) => {
	const times: number[] = [];
	let size = 0;
	let rows = 0;
	for (let i = 0; i < 3; i++) {
		const c0 = process.cpuUsage();
		const { table } = buildElfUnwindTable(path!);
		const c = process.cpuUsage(c0);
		times.push((c.user + c.system) / 1000);
		size = table.bytes.byteLength;
		rows = table.rowCount;
	}
	return `| ${name} | ${median(times).toFixed(0)} ms | ${rows.toLocaleString('en-US')} | ${(size / 1024).toFixed(0)} KiB |`;
});

const body = `Two copies of the 60/40 workload built with gcc -O2 and no frame pointers (one per CPU, ${WORK_ROUNDS} rounds each),
with each profiler sampling the whole host at 97 Hz; median of ${ROUNDS} interleaved rounds on a 2-core machine shared with
other work, after a ${WARMUP_MS / 1000} s warm-up (tables built or read from the cache, symbols loaded). BPF time per sample is
run_time_ns / run_cnt of the profiler's own perf_event programs over the workload run (kernel.bpf_stats_enabled=1);
map memory is the bytes_memlock of the maps those programs use. perf unwinds afterwards, in user space, from the
8 KiB of user stack it copies per sample (its default), so it has no BPF time; its CPU is perf record's alone, and
the last column is the CPU \`perf script --no-inline\` then spends unwinding and naming them. The workload's cost is its own user + system
CPU seconds (both copies, from GNU time): the sampling interrupt and its BPF program run on its time. Profiler CPU
is the median with the rounds' range: a round in which other work on the machine starts new programs has the
collector build and load their tables.

| profiler | BPF time per sample | workload CPU (vs off) | profiler CPU (one core = 100%) | RSS after warm-up / peak | kernel map memory | unwinding afterwards |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Unwind table builds (packages/unwind, CPU time, median of 3; the collector builds each file once, on a worker thread
(files with up to 64 KiB of unwind info on its main thread),
and keeps it in its disk cache):

| file | build CPU | rows | size |
| --- | --- | --- | --- |
${tables.join('\n')}

Targets: dwarf within 2× of fp per sample; collector under 1% of a core after warm-up; RSS under 150 MB.

Deferred samples (a sample taken before its process is described or its table loaded is copied, its registers,
kernel stack and up to 64 KiB of user stack, and walked again by the same walker once the tables are in). Measured with
a profiler that describes no process, on the same workload pair, so that every user stack is pending: with deferral
off each is walked by frame pointers at once and counted as pending; on, each is copied into the ring, then replayed
at each drain (the replay program, BPF_PROG_TEST_RUN) until its last try, ${DEFERRED_TRIES} drains later. These replays find no
process and end at once but the last, which walks by frame pointers: a replay with tables walks as the sampling
program does (its time per sample above).

| | sampling program per sample | samples | deferred (delivered) | replay runs | replay program per run | collector per replay (upper bound) |
| --- | --- | --- | --- | --- | --- | --- |
| deferral off | ${deferOff.nsPerSample.toFixed(0)} ns | ${deferOff.samples} | — | — | — | — |
| deferral on | ${deferOn.nsPerSample.toFixed(0)} ns (+${(deferOn.nsPerSample - deferOff.nsPerSample).toFixed(0)} ns) | ${deferOn.samples} | ${deferOn.deferred} (${deferOn.delivered}) | ${deferOn.replayRuns} | ${deferOn.nsPerReplay.toFixed(0)} ns | ${deferOn.usPerReplayCall.toFixed(1)} µs |`;
console.log(body);
if (!values['no-write']) writeResultsSection('DWARF unwinding cost', body);
