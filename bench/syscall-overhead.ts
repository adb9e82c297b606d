/**
 * What TLS capture costs every other process on the host: the time of one syscall in a loop that
 * does nothing else (`perf bench syscall basic`, getppid), with nothing attached and with each
 * capture attached, none of them tracing that loop. A syscall tracepoint, even on close alone and
 * even with a program that returns at once, puts every syscall of every task through the kernel's
 * slow syscall path; the capture's socket-layer hooks do not.
 *
 * Modes, in a turning order each round, each right after a loop with nothing attached that it is
 * taken against: the capture of this checkout, of another one (`--baseline DIR`, its addon
 * built), and bpftrace counting close's syscall tracepoint.
 *
 *   npx tsx bench/syscall-overhead.ts [--rounds 7] [--loops 5000000] [--baseline DIR] [--no-write]
 * Needs root, perf and (for its mode) bpftrace. Writes the "Every other process's syscalls"
 * section of bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TlsCapture } from '@firesight/collector/tls';
import { benchArgs, text, wholeNumber } from './bench-args.ts';
import { startBpftrace } from './bpftrace.ts';
import { writeResultsSection } from './results-file.ts';

const { values: args } = benchArgs({
	name: 'syscall-overhead',
	summary: "What TLS capture costs every other process's syscalls, against bpftrace on close's syscall tracepoint (as root, with perf).",
	writes: 'the "Every other process\'s syscalls" section of bench/RESULTS.md',
	options: {
		rounds: { check: wholeNumber(), placeholder: 'N', help: 'rounds; each runs every mode once', default: '7' },
		loops: { check: wholeNumber(1000), placeholder: 'N', help: 'syscalls per measurement', default: '5000000' },
		baseline: { check: text(), placeholder: 'DIR', help: 'also measure the capture of another checkout with its addon built' },
		'no-write': { flag: true, help: 'print the section only' },
	},
});

/** How long an attached mode settles first: the capture's first scan of the host's processes. */
const SETTLE_MS = 3000;

/** µs per syscall, as perf prints it. */
function syscallMicros(): number {
	const r = spawnSync('perf', ['bench', 'syscall', 'basic', '--loop', String(args.loops)], { encoding: 'utf8' });
	const m = /([\d.]+) usecs\/op/.exec(r.stdout ?? '');
	if (r.status !== 0 || !m) throw new Error(`perf bench syscall basic failed: ${r.stderr || r.stdout}`);
	return Number(m[1]);
}

type Detach = () => Promise<void>;
type CaptureClass = typeof TlsCapture;

function captureMode(Capture: CaptureClass): () => Promise<Detach> {
	return async () => {
		const cap = new Capture({});
		cap.start();
		return async () => cap.stop();
	};
}

async function bpftraceClose(): Promise<Detach> {
	const bt = await startBpftrace('tracepoint:syscalls:sys_enter_close { @closes = count(); }');
	return async () => void (await bt.stop());
}

const { TlsCapture: Current } = await import('@firesight/collector/tls');
const modes: [string, () => Promise<Detach>][] = [['firesight', captureMode(Current)]];
if (args.baseline) {
	const { TlsCapture: Baseline } = (await import(pathToFileURL(join(resolve(args.baseline), 'apps/collector/src/tls/index.ts')).href)) as {
		TlsCapture: CaptureClass;
	};
	modes.push(['firesight (baseline)', captureMode(Baseline)]);
}
if (spawnSync('bpftrace', ['--version']).status === 0) modes.push(["bpftrace on close's syscall tracepoint", bpftraceClose]);

/** Per mode, per round: [µs with nothing attached just before, µs attached]. */
const runs = new Map<string, [number, number][]>(modes.map(([name]) => [name, []]));
for (let round = 0; round < args.rounds; round++) {
	for (let k = 0; k < modes.length; k++) {
		const [name, attach] = modes[(round + k) % modes.length]!;
		const off = syscallMicros();
		const detach = await attach();
		await new Promise((r) => setTimeout(r, SETTLE_MS));
		const on = syscallMicros();
		await detach();
		runs.get(name)!.push([off, on]);
		console.error(`syscall-overhead: round ${round + 1} ${name}: ${off.toFixed(3)} µs off, ${on.toFixed(3)} µs attached`);
	}
}

const median = (xs: number[]) => {
	const s = [...xs].sort((a, b) => a - b);
	const mid = s.length >> 1;
	return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const rows = [...runs].map(([name, pairs]) => {
	const ratios = pairs.map(([off, on]) => on / off);
	return `| ${name} | ${median(pairs.map((p) => p[0])).toFixed(3)} | ${median(pairs.map((p) => p[1])).toFixed(3)} | ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) |`;
});
const section = `\`perf bench syscall basic\` (${args.loops.toLocaleString('en')} getppid calls in a loop, a process no capture traces) with nothing
attached, then with each mode attached (after ${SETTLE_MS / 1000} s to settle), in a turning order each round; each mode's time is taken against
the loop with nothing attached right before it. Median over ${args.rounds} rounds, the ratio's lowest and highest round in brackets
(1-minute load average at the end: ${loadavg()[0]!.toFixed(1)}). Any syscall tracepoint puts every syscall of every task through the
kernel's slow syscall path; the capture sees socket I/O through the socket layer's tracepoints and closes through the TCP
state one.

| mode | µs/syscall, nothing attached | µs/syscall, attached | ratio |
| --- | ---: | ---: | ---: |
${rows.join('\n')}

Run: \`npx tsx bench/syscall-overhead.ts${args.baseline ? ' --baseline DIR' : ''}\` (${new Date().toISOString().slice(0, 10)}).`;
console.log(section);
if (!args['no-write']) writeResultsSection("Every other process's syscalls", section);
