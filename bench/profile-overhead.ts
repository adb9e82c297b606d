/**
 * Profiler overhead at 97 Hz with both CPUs busy, side by side in one run with perf and bpftrace:
 * - the slowdown of a fixed CPU workload (two copies, one per CPU) with each profiler on vs off;
 * - each profiler's own CPU time per second and peak RSS after warm-up.
 * Conditions are interleaved over several rounds and medians reported, because this machine is
 * shared and noisy: the ratios are what to read, not the absolute seconds.
 *
 * Usage: npx tsx bench/profile-overhead.ts [--rounds N] [--warmup SECONDS] [--compare DIR [--compare-name NAME]]
 * --compare DIR adds `firesight record` from another checkout (e.g. an older commit unpacked with
 * `git archive`), run interleaved with this one, for before/after numbers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileFixture } from '@firesight/testing/workloads';
import { hasCommand, stopPeer } from './peer-process.ts';
import { cpuSeconds, rssMiB } from './proc-usage.ts';
import { writeResultsSection } from './results-file.ts';
import { benchArgs, nonNegativeNumber, text, wholeNumber } from './bench-args.ts';

const firesightBin = fileURLToPath(import.meta.resolve('@firesight/collector/bin/firesight.js'));

const { values } = benchArgs({
	name: 'profile-overhead',
	summary: "The CPU profiler's cost to a busy workload at 97 Hz, and its own CPU and memory, against perf record and bpftrace (as root).",
	writes: 'the "CPU profiler overhead" section of bench/RESULTS.md',
	options: {
		rounds: { check: wholeNumber(), placeholder: 'N', help: 'interleaved rounds of every profiler', default: '3' },
		work: { check: wholeNumber(), placeholder: 'ROUNDS', help: 'hot_a+hot_b rounds per workload run', default: '4000' },
		warmup: { check: nonNegativeNumber(), placeholder: 'SECS', help: 'seconds a profiler runs before it is measured', default: '5' },
		compare: { check: text(), placeholder: 'DIR', help: '`firesight record` of another checkout as one more profiler' },
		'compare-name': { check: text(), placeholder: 'NAME', help: "that checkout's name in the table (default: DIR's last part)" },
	},
});
const ROUNDS = values.rounds;
const WARMUP_MS = values.warmup * 1000;
const WORK_ROUNDS = values.work; // hot_a+hot_b rounds per workload run

interface Peer {
	name: string;
	start(): ChildProcess | undefined;
}

const recordArgs = ['record', '--duration', '1h', '--frequency', '97', '--output', '/dev/null', '--format', 'folded'];
const compareName =
	values.compare === undefined ? undefined : `firesight (${values['compare-name'] ?? values.compare.split('/').filter(Boolean).pop()})`;
const peers: Peer[] = [
	{ name: 'off', start: () => undefined },
	{ name: 'firesight', start: () => spawn(process.execPath, [firesightBin, ...recordArgs], { stdio: 'ignore' }) },
	...(values.compare === undefined
		? []
		: [
				{
					name: compareName!,
					start: () =>
						spawn(process.execPath, [join(values.compare!, 'apps/collector/bin/firesight.js'), ...recordArgs], { stdio: 'ignore' }),
				},
			]),
	{
		name: 'perf record -F 97 -a -g',
		start: () => spawn('perf', ['record', '-q', '-F', '97', '-a', '-g', '-o', '/dev/null'], { stdio: 'ignore' }),
	},
	{
		name: 'bpftrace profile:hz:97',
		start: () => spawn('bpftrace', ['-e', 'profile:hz:97 { @[kstack, ustack, comm] = count(); }'], { stdio: 'ignore' }),
	},
];

const workload = compileFixture('split-60-40');

function runWorkloadPair(): Promise<number> {
	const t0 = performance.now();
	const runs = [0, 1].map(
		() =>
			new Promise<void>((resolve, reject) => {
				const p = spawn(workload.path, [String(WORK_ROUNDS)], { stdio: 'ignore' });
				p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`workload exited ${code}`))));
			}),
	);
	return Promise.all(runs).then(() => (performance.now() - t0) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const wall: Record<string, number[]> = {};
const cpu: Record<string, number[]> = {};
const startup: Record<string, number[]> = {};
const rss: Record<string, number[]> = {};
const available = peers.filter((p) => {
	if (p.name.startsWith('perf')) return hasCommand('perf');
	if (p.name.startsWith('bpftrace')) return hasCommand('bpftrace');
	return true;
});

try {
	for (let round = 0; round < ROUNDS; round++) {
		for (const peer of available) {
			const child = peer.start();
			if (child) await new Promise((r) => setTimeout(r, WARMUP_MS)); // attach, load symbols, settle
			// Own CPU time per wall second over the whole workload run, after the warm-up.
			const c0 = child?.pid ? cpuSeconds(child.pid) : undefined;
			const t0 = performance.now();
			const seconds = await runWorkloadPair();
			const c1 = child?.pid ? cpuSeconds(child.pid) : undefined;
			const usage =
				child?.pid && c0 !== undefined && c1 !== undefined
					? { startup: c0, cpuPerSec: (c1 - c0) / ((performance.now() - t0) / 1000), rssPeakMiB: rssMiB(child.pid)?.peak ?? 0 }
					: undefined;
			if (child) await stopPeer(child);
			(wall[peer.name] ??= []).push(seconds);
			if (usage) {
				(cpu[peer.name] ??= []).push(usage.cpuPerSec);
				(rss[peer.name] ??= []).push(usage.rssPeakMiB);
				(startup[peer.name] ??= []).push(usage.startup);
			}
			console.error(
				`round ${round + 1}/${ROUNDS} ${peer.name}: workload ${seconds.toFixed(2)} s${usage ? `, profiler ${(usage.cpuPerSec * 100).toFixed(2)}% of a core, ${usage.rssPeakMiB.toFixed(0)} MiB` : ''}`,
			);
		}
	}
} finally {
	workload.cleanup();
}

const base = median(wall.off ?? []);
const rows = available.map((p) => {
	const w = median(wall[p.name] ?? []);
	const slow = ((w / base - 1) * 100).toFixed(2);
	const c = cpu[p.name] ? `${(median(cpu[p.name]!) * 100).toFixed(2)}%` : '—';
	const r = rss[p.name] ? `${median(rss[p.name]!).toFixed(0)} MiB` : '—';
	const st = startup[p.name] ? `${median(startup[p.name]!).toFixed(2)} s` : '—';
	return `| ${p.name} | ${w.toFixed(2)} s | ${(w / base).toFixed(4)} (${slow}%) | ${c} | ${r} | ${st} |`;
});
const body = `Two copies of the 60/40 known-answer workload (one per CPU, ${WORK_ROUNDS} rounds each), with each profiler
sampling the whole host at 97 Hz; median of ${ROUNDS} interleaved rounds on a 2-core machine shared with other work.
Profiler CPU is its own user+system time (all threads) per wall second over the whole workload run, after a
${WARMUP_MS / 1000} s warm-up with the machine otherwise idle, so symbol tables are loaded; startup CPU is what it used during
that warm-up; RSS is its peak. The firesight process here is \`firesight record\`, which runs the same sampler,
drain and symbolizer loop (every second) as the collector.${
	compareName === undefined
		? ''
		: ` \`${compareName}\` is the same command from that
older checkout, run interleaved with this one.`
}

| profiler | workload wall time | vs off (slowdown) | profiler CPU (one core = 100%) | profiler peak RSS | startup CPU |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Targets: slowdown under 1%, collector under 1% of one core after warm-up, RSS under 150 MB.`;
console.log(body);
writeResultsSection('CPU profiler overhead', body);
