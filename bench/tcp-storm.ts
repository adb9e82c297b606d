/**
 * TCP retransmit storm: 50 connections between two network namespaces for a fixed time, with
 * nftables dropping 30% of the packets the receiver gets. Measured in one run, side by side:
 * - Firesight's TCP path (TcpTracer streaming every retransmit event into the ConnectionTable,
 *   draining the kernel map each second), as its own process: CPU seconds per second, peak RSS,
 *   every drop counter, and its retransmit count against the sender namespace's TcpRetransSegs;
 * - bpftrace counting the same tracepoint per pid, the lightest possible peer: its CPU.
 *
 * Usage: npx tsx bench/tcp-storm.ts [--duration SECONDS] [--connections N] [--loss PERCENT]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createNetnsPair, netnsUnavailableReason, waitForOutput } from '@firesight/testing/netns';
import { SINK_SCRIPT, SOURCE_SCRIPT } from '@firesight/testing/tcp-peers';
import { cpuSeconds, rssMiB } from './proc-usage.ts';
import { writeResultsSection } from './results-file.ts';
import { benchArgs, positiveNumber, wholeNumber } from './bench-args.ts';

const { values } = benchArgs({
	name: 'tcp-storm',
	summary:
		"Firesight's TCP path under heavy retransmits between two network namespaces, against bpftrace on the same tracepoint (as root).",
	writes: 'the "TCP retransmit storm" section of bench/RESULTS.md',
	options: {
		duration: { check: positiveNumber(), placeholder: 'SECONDS', help: 'seconds of traffic', default: '60' },
		connections: { check: wholeNumber(), placeholder: 'N', help: 'TCP connections', default: '50' },
		loss: { check: wholeNumber(0, 100), placeholder: 'PERCENT', help: "share of the receiver's packets dropped", default: '30' },
	},
});
const DURATION_S = values.duration;
const CONNECTIONS = values.connections;
const LOSS = values.loss;
const PORT = 5301;
const collectorScript = fileURLToPath(new URL('./tcp-storm-collector.ts', import.meta.url));

function hasBpftrace(): boolean {
	try {
		execFileSync('bpftrace', ['--version'], { stdio: 'ignore' });
		return true;
	} catch {
		return false;
	}
}

function stop(child: ChildProcess | undefined): void {
	if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

const unavailable = netnsUnavailableReason();
if (unavailable) {
	console.error(`tcp-storm: ${unavailable}`);
	process.exit(1);
}

const pair = createNetnsPair();
const children: ChildProcess[] = [];
try {
	const sink = pair.spawn(pair.server, process.execPath, ['-e', SINK_SCRIPT, pair.serverAddr, String(PORT)]);
	children.push(sink);
	await waitForOutput(sink, 'listening');

	const collector = spawn(process.execPath, ['--import', 'tsx', collectorScript, pair.clientAddr], {
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	children.push(collector);
	let collectorOut = '';
	collector.stdout!.on('data', (d: Buffer) => (collectorOut += d.toString()));
	await waitForOutput(collector, 'ready', 30_000);

	let bpftrace: ChildProcess | undefined;
	let bpftraceOut = '';
	if (hasBpftrace()) {
		bpftrace = spawn('bpftrace', ['-e', 'tracepoint:tcp:tcp_retransmit_skb { @[pid] = count(); }'], { stdio: ['ignore', 'pipe', 'pipe'] });
		children.push(bpftrace);
		bpftrace.stdout!.on('data', (d: Buffer) => (bpftraceOut += d.toString()));
		await waitForOutput(bpftrace, 'Attaching', 30_000);
	}

	pair.nft(
		pair.server,
		`
		table inet storm {
			chain input {
				type filter hook input priority 0; policy accept;
				tcp dport ${PORT} numgen random mod 100 < ${LOSS} drop
			}
		}`,
	);
	const snmp0 = pair.tcpCounters(pair.client).RetransSegs!;
	const cpu0 = { collector: cpuSeconds(collector.pid!) ?? 0, bpftrace: bpftrace ? (cpuSeconds(bpftrace.pid!) ?? 0) : 0 };
	const t0 = performance.now();

	const source = pair.spawn(pair.client, process.execPath, [
		'-e',
		SOURCE_SCRIPT,
		pair.serverAddr,
		String(PORT),
		String(CONNECTIONS),
		'0',
		String(DURATION_S * 1000),
	]);
	children.push(source);
	console.error(`tcp-storm: ${CONNECTIONS} connections, ${LOSS}% loss, ${DURATION_S} s`);
	// CPU is measured over the sending period; counts over the whole run, closing included.
	const cpuAtDeadline = new Promise<{ collector: number; bpftrace: number; wall: number }>((resolve) =>
		setTimeout(
			() =>
				resolve({
					collector: cpuSeconds(collector.pid!) ?? 0,
					bpftrace: bpftrace ? (cpuSeconds(bpftrace.pid!) ?? 0) : 0,
					wall: (performance.now() - t0) / 1000,
				}),
			DURATION_S * 1000,
		),
	);
	// The sources stop sending at the deadline; with this much loss, closing can take a while more.
	await Promise.race([new Promise((r) => source.once('exit', r)), new Promise((r) => setTimeout(r, DURATION_S * 1000 + 15_000))]);
	stop(source);
	// Orphaned sockets keep retransmitting after the process is gone. Lift the loss and wait until
	// the sender namespace has no connection left but TIME-WAIT ones, so that the kernel counter
	// read next and the collector's final read cover the same retransmits.
	pair.exec(pair.server, 'nft', ['flush', 'ruleset']);
	for (let i = 0; i < 100; i++) {
		if (pair.exec(pair.client, 'ss', ['-Htan', 'exclude', 'time-wait']).trim() === '') break;
		await new Promise((r) => setTimeout(r, 100));
	}
	const wall = (performance.now() - t0) / 1000;
	const snmpDelta = pair.tcpCounters(pair.client).RetransSegs! - snmp0;
	const atDeadline = await cpuAtDeadline;
	const cpu = {
		collector: (atDeadline.collector - cpu0.collector) / atDeadline.wall,
		bpftrace: bpftrace ? (atDeadline.bpftrace - cpu0.bpftrace) / atDeadline.wall : NaN,
	};
	const rss = rssMiB(collector.pid!)?.peak ?? 0;
	const bpftraceRss = bpftrace ? (rssMiB(bpftrace.pid!)?.peak ?? 0) : NaN;

	collector.kill('SIGTERM');
	await new Promise((r) => collector.once('exit', r));
	const result = JSON.parse(collectorOut.split('\n').find((l) => l.startsWith('{')) ?? '{}') as {
		events: number;
		retransmitSegments: number;
		mapSegments: number;
		counters: Record<string, number>;
	};
	let bpftraceEvents = NaN;
	if (bpftrace) {
		bpftrace.kill('SIGINT');
		await new Promise((r) => bpftrace!.once('exit', r));
		bpftraceEvents = [...bpftraceOut.matchAll(/@\[\d+\]: (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
	}

	const c = result.counters;
	const drops = c.ringBufferFull! + c.eventsDropped! + c.connectionsMapFull! + c.synackPendingFull!;
	const fmt = (n: number, d = 3) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
	const body = `
${CONNECTIONS} connections from one namespace to another over a veth pair for ${DURATION_S} s, nftables
dropping ${LOSS}% of the packets the receiver gets (\`numgen random\` on the input hook).
Run: \`npx tsx bench/tcp-storm.ts --duration ${DURATION_S}\`, ${new Date().toISOString().slice(0, 10)}, CPU over the ${DURATION_S} s of sending, counts over all ${wall.toFixed(1)} s (closing under loss included),
2 shared CPUs (the load generator and the sink run on the same two CPUs).

| | CPU s/s | peak RSS MiB | events | drops |
|---|---|---|---|---|
| Firesight TcpTracer + ConnectionTable (every retransmit streamed) | ${fmt(cpu.collector)} | ${fmt(rss, 0)} | ${result.events} | ${drops} |
| bpftrace \`tracepoint:tcp:tcp_retransmit_skb { @[pid] = count(); }\` | ${fmt(cpu.bpftrace)} | ${fmt(bpftraceRss, 0)} | ${bpftraceEvents} (all hosts' retransmit calls) | — |

Counts for the sender namespace's connections:

| source | retransmitted segments |
|---|---|
| kernel \`TcpRetransSegs\` delta (sender namespace) | ${snmpDelta} |
| Firesight, summed from the live events | ${result.retransmitSegments} |
| Firesight, from the kernel connection map | ${result.mapSegments} |

Drop counters: ring buffer full ${c.ringBufferFull}, events dropped before JavaScript ${c.eventsDropped},
connection map full ${c.connectionsMapFull}, SYN-ACK map full ${c.synackPendingFull}. Host-wide:
${c.retransmitCalls} tcp_retransmit_skb calls, ${c.retransmitSegments} segments.
bpftrace counts calls (skbs; on 6.18 failed attempts too), not segments, so its count is lower than
the segment counts under TSO/GSO.
`;
	console.log(body);
	writeResultsSection('TCP retransmit storm', body);
} finally {
	for (const child of children) stop(child);
	pair.remove();
}
