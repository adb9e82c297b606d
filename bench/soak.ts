/**
 * Soak: `firesight up` for a long run (10 minutes by default) with a CPU workload, an HTTPS server
 * and client over OpenSSL, and TCP traffic between two network namespaces with nftables dropping
 * a share of the packets. Every 10 s it records the `up` process's RSS and CPU, where the RSS is
 * (V8's heap and its spaces, external memory and ArrayBuffers from /metrics; malloc's arenas,
 * other anonymous memory, BPF maps and files from smaps), and the loss counters from /metrics
 * (collectors' and the hub's). The target: RSS flat after warm-up, and no drops at the default
 * rates. Writes the "Soak" section of bench/RESULTS.md.
 *
 * Usage: npm run soak -- [--minutes N] [--loss PERCENT] [--sample-every S] [--cpu-prof DIR] [--heap-snapshots DIR] [--no-write]
 *
 * --no-write prints the section instead of writing RESULTS.md: for a short check of the figures.
 *
 * --cpu-prof DIR runs `up` under `node --cpu-prof` and leaves its .cpuprofile in DIR (open it in
 * Chrome's DevTools or speedscope) to see where the process's CPU goes; such a run does not write
 * RESULTS.md, since the profiler's own cost is in its figures.
 *
 * --heap-snapshots DIR writes a heap snapshot of `up`'s main thread into DIR at the end of the
 * warm-up and at the end of the run; `npx tsx bench/heap-snapshot-diff.ts A B` then says which
 * kinds of object grew in between. Such a run does not write RESULTS.md either: a snapshot stops
 * the process for seconds and doubles its heap meanwhile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { SQLITE_CACHE_KIB } from '@firesight/store';
import { describeDrop } from '@firesight/web/drop-descriptions';
import { createNetnsPair, netnsUnavailableReason, waitForOutput, type NetnsPair } from '@firesight/testing/netns';
import { SINK_SCRIPT, SOURCE_SCRIPT } from '@firesight/testing/tcp-peers';
import { freePort } from '@firesight/testing/free-port';
import { makeCert, startNodeServer } from '@firesight/testing/tls-peers';
import { compileFixture, startWorkload } from '@firesight/testing/workloads';
import { cpuSeconds, memoryBreakdown, rssMiB, type MemoryBreakdown } from './proc-usage.ts';
import { writeResultsSection } from './results-file.ts';
import { benchArgs, positiveNumber, text, wholeNumber } from './bench-args.ts';

const { values } = benchArgs({
	name: 'soak',
	command: 'npm run soak --',
	summary: "`firesight up` under CPU, TLS and lossy-network workloads (as root): RSS, CPU and /metrics' loss counters over time.",
	writes: 'the "Soak" section of bench/RESULTS.md (not with --cpu-prof or --heap-snapshots)',
	options: {
		minutes: { check: positiveNumber(24 * 60), placeholder: 'N', help: 'minutes of the run', default: '10' },
		// Whole percents: nftables' `numgen random mod 100 < LOSS` takes no fraction.
		loss: { check: wholeNumber(1, 100), placeholder: 'PERCENT', help: 'packets dropped between the namespaces', default: '5' },
		'sample-every': { check: positiveNumber(3600), placeholder: 'S', help: 'seconds between two points', default: '10' },
		'cpu-prof': { check: text(), placeholder: 'DIR', help: 'run up under node --cpu-prof and leave its .cpuprofile in DIR' },
		'heap-snapshots': {
			check: text(),
			placeholder: 'DIR',
			help: 'heap snapshots of up at the end of the warm-up and of the run, for heap-snapshot-diff',
		},
		'no-write': { flag: true, help: 'print the section only' },
	},
});
const CPU_PROF = values['cpu-prof'];
const HEAP_SNAPSHOTS = values['heap-snapshots'];
const MINUTES = values.minutes;
const LOSS = values.loss;
const EVERY_S = values['sample-every'];
/** RSS growth is judged after this share of the run, once caches and the store have warmed up. */
const WARMUP_SHARE = 0.3;
const BIN = fileURLToPath(new URL('../apps/collector/bin/firesight.js', import.meta.url));
const TCP_PORT = 5302;

/** The HTTPS client: one keep-alive request every 20 ms until killed, so TLS capture always has work. */
const TLS_CLIENT_SCRIPT = `
const https = require('https');
const agent = new https.Agent({ keepAlive: true, maxSockets: 2, rejectUnauthorized: false });
const port = +process.argv[1];
let n = 0;
setInterval(() => {
	const req = https.request({ host: '127.0.0.1', port, path: '/soak/' + (n++ % 50), agent }, (res) => res.resume());
	req.on('error', () => {});
	req.end();
}, 20);
`;

interface Point {
	atS: number;
	rssMiB: number;
	/** The main thread's JS heap in use (hub, dashboard and the collector's main thread), from /metrics. */
	heapMiB: number;
	/** The same just after V8's latest full collection (0 before the first): what is live. */
	liveHeapMiB: number;
	/** The SQLite database and its write-ahead log. */
	dbMiB: number;
	/** Where the RSS is: V8's heap, external memory and ArrayBuffers from /metrics, the rest from smaps. */
	parts: Parts;
	/** V8's heap of the main thread by space (new, old, code, large object...): committed MiB. */
	spaces: Map<string, number>;
	cpuPercent: number;
	drops: number;
	windowsStored: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sum of every loss counter in a /metrics text, and each one by name (`host/counter` or `hub.metric.label`). */
function lossCounters(text: string): Map<string, number> {
	const out = new Map<string, number>();
	for (const line of text.split('\n')) {
		let m = /^firesight_collector_drops\{host="([^"]*)",counter="([^"]*)"\} (\S+)/.exec(line);
		if (m) {
			out.set(`${m[1]}/${m[2]}`, Number(m[3]));
			continue;
		}
		m = /^firesight_hub_(window_repairs|messages_rejected)_total\{reason="([^"]*)"\} (\S+)/.exec(line);
		if (m) out.set(`hub.${m[1]}.${m[2]}`, Number(m[3]));
	}
	return out;
}

/**
 * V8's committed heap by space, in MiB, from the hub's per-space gauges (v8.getHeapSpaceStatistics):
 * the committed heap can grow while the used heap does not, and which space grows says why (new
 * space sizing itself up, old space fragmenting, code space from code compiled at run time, large
 * objects held).
 */
function heapSpacesMiB(text: string): Map<string, number> {
	const out = new Map<string, number>();
	for (const m of text.matchAll(/^firesight_hub_nodejs_heap_space_size_total_bytes\{space="([^"]*)"\} (\S+)/gm)) {
		out.set(m[1]!.replaceAll('_', ' '), Number(m[2]) / 1024 / 1024);
	}
	return out;
}

/** The spaces worth a row or a word: those that held 1 MiB or more at some point. */
function bigSpaces(points: readonly Point[]): string[] {
	const names = new Set<string>();
	for (const p of points) for (const [name, mib] of p.spaces) if (mib >= 1) names.add(name);
	return [...names];
}

function heapUsedMiB(text: string): number {
	return hubCounter(text, 'firesight_hub_nodejs_heap_size_used_bytes') / 1024 / 1024;
}

/** Size of the store's files under the data directory. */
function databaseMiB(dir: string): number {
	let bytes = 0;
	for (const name of ['firesight.db', 'firesight.db-wal']) {
		try {
			bytes += statSync(join(dir, name)).size;
		} catch {
			// not written yet
		}
	}
	return bytes / 1024 / 1024;
}

type Parts = Omit<MemoryBreakdown, 'rss'> & { heapTotal: number; external: number; arrayBuffers: number };

/** The parts of RSS the section reports, in the order of its table, with what each holds. */
const PARTS: readonly [keyof Parts, string][] = [
	['heapTotal', "V8's heap, committed (in other anonymous memory below)"],
	['external', 'external memory V8 knows of (ArrayBuffers included)'],
	['arrayBuffers', 'of which ArrayBuffers and Buffers'],
	['mallocMain', "malloc's main arena (the main thread's blocks: SQLite's page cache, small ArrayBuffers)"],
	['mallocArenas', "malloc's other arenas (the addon's ring-buffer and drain threads, libuv's pool, worker threads)"],
	['otherAnon', "other anonymous memory (V8's heap, blocks of 128 KiB and up, thread stacks)"],
	['bpfMaps', 'BPF maps mapped in (ring buffers)'],
	['file', 'files (node, libraries, the addon)'],
];

function parts(pid: number, text: string): Parts {
	const { rss: _, ...smaps } = memoryBreakdown(pid) ?? { rss: 0, mallocMain: 0, mallocArenas: 0, otherAnon: 0, bpfMaps: 0, file: 0 };
	const mib = (name: string) => hubCounter(text, `firesight_hub_nodejs_${name}`) / 1024 / 1024;
	return {
		...smaps,
		heapTotal: mib('heap_size_total_bytes'),
		external: mib('external_memory_bytes'),
		arrayBuffers: mib('array_buffers_bytes'),
	};
}

/**
 * Least-squares slope in MiB per minute: RSS and heap swing by tens of MiB with each collection,
 * so the first and last points alone say more about when the collector ran than about a leak.
 */
function slopePerMin(points: readonly Point[], of: (p: Point) => number): number {
	if (points.length < 2) return 0;
	const n = points.length;
	const mx = points.reduce((a, p) => a + p.atS, 0) / n;
	const my = points.reduce((a, p) => a + of(p), 0) / n;
	let num = 0;
	let den = 0;
	for (const p of points) {
		num += (p.atS - mx) * (of(p) - my);
		den += (p.atS - mx) ** 2;
	}
	return den === 0 ? 0 : (num / den) * 60;
}

/**
 * Theil–Sen slope in MiB per minute: the median of the slopes between every two points. The floors
 * below are few (one a minute), and a least-squares line through them swings with one of them:
 * a minute whose floor caught a full collection, or one that missed it. The median of the pairwise
 * slopes moves only when a third or so of the floors move, so it follows the trend, not one minute.
 */
function medianSlopePerMin(points: readonly Point[], of: (p: Point) => number): number {
	const slopes: number[] = [];
	for (let i = 0; i < points.length; i++)
		for (let j = i + 1; j < points.length; j++) {
			const dt = points[j]!.atS - points[i]!.atS;
			if (dt > 0) slopes.push((of(points[j]!) - of(points[i]!)) / dt);
		}
	if (slopes.length === 0) return 0;
	slopes.sort((a, b) => a - b);
	const mid = slopes.length >> 1;
	return (slopes.length % 2 ? slopes[mid]! : (slopes[mid - 1]! + slopes[mid]!) / 2) * 60;
}

/**
 * The lowest value in each minute: what is left after a collection. A leak raises this floor;
 * garbage between collections only raises the peaks.
 */
function minuteFloors(points: readonly Point[], of: (p: Point) => number): Point[] {
	const floors = new Map<number, Point>();
	for (const p of points) {
		const minute = Math.floor(p.atS / 60);
		const low = floors.get(minute);
		if (!low || of(p) < of(low)) floors.set(minute, p);
	}
	return [...floors.values()];
}

/** A hub counter without labels, or 0 when the hub does not have it. */
function hubCounter(text: string, name: string): number {
	const m = new RegExp(`^${name} (\\S+)`, 'm').exec(text);
	return m ? Number(m[1]) : 0;
}

function windowsStored(text: string): number {
	let n = 0;
	for (const m of text.matchAll(/^firesight_hub_windows_ingested_total\{[^}]*\} (\S+)/gm)) n += Number(m[1]);
	return n;
}

/**
 * Counters that are not drops, though reported: what the dashboard's drops panel does not count as
 * lost (something cut, unnamed or only deferred), and what weighs in bytes a loss another counter
 * counts (skippedBytes: the bytes of the desyncs and parse errors).
 */
const notLoss = (name: string) =>
	describeDrop(name.slice(name.indexOf('/') + 1)).lost === false || /\.skippedBytes$|^hub\.window_repairs\./.test(name);

const unavailable = netnsUnavailableReason();
if (unavailable) {
	console.error(`soak: ${unavailable}`);
	process.exit(1);
}

const children: ChildProcess[] = [];
const cleanups: (() => void)[] = [];
let pair: NetnsPair | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
	process.once(signal, () => {
		console.error(`soak: ${signal}: stopping the workloads; RESULTS.md not written`);
		cleanUp();
		process.exit(130);
	});
const data = mkdtempSync(join(tmpdir(), 'firesight-soak-'));
cleanups.push(() => rmSync(data, { recursive: true, force: true }));
try {
	const port = await freePort();
	if (HEAP_SNAPSHOTS !== undefined) mkdirSync(HEAP_SNAPSHOTS, { recursive: true });
	const nodeArgs = [
		...(CPU_PROF === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', CPU_PROF]),
		...(HEAP_SNAPSHOTS === undefined ? [] : ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${HEAP_SNAPSHOTS}`]),
	];
	const up = spawn(process.execPath, [...nodeArgs, BIN, 'up', '--listen', `127.0.0.1:${port}`, '--data', data], {
		stdio: ['ignore', 'ignore', 'pipe'],
	});
	children.push(up);
	let upLog = '';
	up.stderr!.on('data', (d: Buffer) => (upLog += d.toString()));
	await new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`firesight up did not start within 120 s:\n${upLog}`)), 120_000);
		up.once('exit', (code) => reject(new Error(`firesight up exited with ${code}:\n${upLog}`)));
		up.stderr!.on('data', () => {
			if (upLog.includes('dashboard at')) {
				clearTimeout(timer);
				resolve();
			}
		});
	});
	const hub = `http://127.0.0.1:${port}`;
	const metrics = async () => {
		const res = await fetch(`${hub}/metrics`);
		if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
		return res.text();
	};

	// CPU: the known-answer workload, at the lowest priority so the machine stays usable.
	const cpuBin = compileFixture('split-60-40');
	cleanups.push(cpuBin.cleanup);
	const cpu = await startWorkload('nice', ['-n', '19', cpuBin.path]);
	children.push(cpu.child);

	// TLS: Node's https server and a keep-alive client, both through OpenSSL in node.
	const cert = makeCert();
	const tlsPort = await freePort();
	children.push(await startNodeServer(cert, tlsPort));
	children.push(spawn(process.execPath, ['-e', TLS_CLIENT_SCRIPT, String(tlsPort)], { stdio: 'ignore' }));

	// Lossy network: two connections between namespaces, nftables dropping LOSS% on the receiver.
	pair = createNetnsPair();
	const sink = pair.spawn(pair.server, process.execPath, ['-e', SINK_SCRIPT, pair.serverAddr, String(TCP_PORT)]);
	children.push(sink);
	await waitForOutput(sink, 'listening');
	pair.nft(
		pair.server,
		`
		table inet soak {
			chain input {
				type filter hook input priority 0; policy accept;
				tcp dport ${TCP_PORT} numgen random mod 100 < ${LOSS} drop
			}
		}`,
	);
	const runMs = MINUTES * 60_000;
	children.push(
		pair.spawn(pair.client, 'nice', [
			'-n',
			'19',
			process.execPath,
			'-e',
			SOURCE_SCRIPT,
			pair.serverAddr,
			String(TCP_PORT),
			'2',
			'0',
			String(runMs + 60_000),
		]),
	);

	console.error(`soak: firesight up on ${hub}, ${MINUTES} min, CPU + TLS + ${LOSS}% loss; a point every ${EVERY_S} s`);
	const points: Point[] = [];
	const t0 = performance.now();
	let cpuPrev = cpuSeconds(up.pid!) ?? 0;
	let tPrev = t0;
	let last = new Map<string, number>();
	const loads: number[] = [];
	let lastText = '';
	let warmUpSnapshot: string | undefined;
	while (performance.now() - t0 < runMs) {
		await sleep(Math.min(EVERY_S * 1000, runMs - (performance.now() - t0)));
		if (up.exitCode !== null) throw new Error(`firesight up exited during the soak:\n${upLog}`);
		const now = performance.now();
		const cpuNow = cpuSeconds(up.pid!) ?? cpuPrev;
		const text = await metrics();
		loads.push(loadavg()[0]!);
		lastText = text;
		last = lossCounters(text);
		const drops = [...last].filter(([name]) => !notLoss(name)).reduce((n, [, v]) => n + v, 0);
		const point = {
			atS: (now - t0) / 1000,
			rssMiB: rssMiB(up.pid!)?.rss ?? 0,
			heapMiB: heapUsedMiB(text),
			liveHeapMiB: hubCounter(text, 'firesight_hub_nodejs_heap_used_after_full_gc_bytes') / 1024 / 1024,
			parts: parts(up.pid!, text),
			spaces: heapSpacesMiB(text),
			dbMiB: databaseMiB(data),
			cpuPercent: ((cpuNow - cpuPrev) / ((now - tPrev) / 1000)) * 100,
			drops,
			windowsStored: windowsStored(text),
		};
		points.push(point);
		console.error(
			`soak: ${point.atS.toFixed(0)} s  RSS ${point.rssMiB.toFixed(1)} MiB  heap ${point.heapMiB.toFixed(1)} (live ${point.liveHeapMiB.toFixed(1)}) of ${point.parts.heapTotal.toFixed(1)} MiB (${[
				...point.spaces,
			]
				.filter(([, mib]) => mib >= 1)
				.map(([name, mib]) => `${name} ${mib.toFixed(1)}`)
				.join(
					', ',
				)})  malloc ${point.parts.mallocMain.toFixed(1)} + ${point.parts.mallocArenas.toFixed(1)} MiB  CPU ${point.cpuPercent.toFixed(1)}%  drops ${drops}  windows ${point.windowsStored}`,
		);
		cpuPrev = cpuNow;
		tPrev = now;
		if (HEAP_SNAPSHOTS !== undefined && !warmUpSnapshot && point.atS >= (runMs / 1000) * WARMUP_SHARE) {
			warmUpSnapshot = await heapSnapshot(up, HEAP_SNAPSHOTS, hub);
			// The snapshot's own CPU is not the process's work.
			cpuPrev = cpuSeconds(up.pid!) ?? cpuPrev;
			tPrev = performance.now();
		}
	}
	const peakRss = rssMiB(up.pid!)?.peak ?? 0;
	if (HEAP_SNAPSHOTS !== undefined) {
		const endSnapshot = await heapSnapshot(up, HEAP_SNAPSHOTS, hub);
		console.error(
			`soak: heap snapshots at the end of the warm-up and of the run: npx tsx bench/heap-snapshot-diff.ts ${warmUpSnapshot} ${endSnapshot}`,
		);
	}
	up.kill('SIGTERM');
	const exitCode = await new Promise<number | null>((r) => up.once('exit', (code) => r(code)));

	const afterWarmup = points.filter((p) => p.atS >= (runMs / 1000) * WARMUP_SHARE);
	const first = afterWarmup[0] ?? points[0]!;
	const end = points.at(-1)!;
	const rss = (p: Point) => p.rssMiB;
	const heap = (p: Point) => p.heapMiB;
	const growthPerMin = slopePerMin(afterWarmup, rss);
	const heapPerMin = slopePerMin(afterWarmup, heap);
	const rssFloors = minuteFloors(afterWarmup, rss);
	const heapFloors = minuteFloors(afterWarmup, heap);
	const rssFloorPerMin = medianSlopePerMin(rssFloors, rss);
	const heapFloorPerMin = medianSlopePerMin(heapFloors, heap);
	// One point for each full collection seen (a new value): the points between two collections
	// repeat the last one's value, and their pairs would pull the median slope to 0. Points before
	// the first full collection read 0.
	const live = (p: Point) => p.liveHeapMiB;
	const liveAfterWarmup = afterWarmup.filter((p, i) => p.liveHeapMiB > 0 && (i === 0 || p.liveHeapMiB !== afterWarmup[i - 1]!.liveHeapMiB));
	const livePerMin = medianSlopePerMin(liveAfterWarmup, live);
	const liveFirst = liveAfterWarmup[0];
	const list = (floors: Point[], of: (p: Point) => number) => floors.map((p) => of(p).toFixed(0)).join(', ');
	const sign = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}`;
	const partRow = (what: string, of: (p: Point) => number) => {
		const floors = minuteFloors(afterWarmup, of);
		return `| ${what} | ${of(first).toFixed(1)} | ${of(end).toFixed(1)} | ${sign(slopePerMin(afterWarmup, of))} | ${list(floors, of)} | ${sign(medianSlopePerMin(floors, of))} |`;
	};
	const spaceOf = (name: string) => (p: Point) => p.spaces.get(name) ?? 0;
	const spaces = bigSpaces(afterWarmup);
	const partRows = PARTS.flatMap(([key, what]) => [
		partRow(what, (p) => p.parts[key]),
		// V8's committed heap broken down right below it: which space grows says why it grows.
		...(key === 'heapTotal' ? spaces.map((name) => partRow(`of which V8's ${name} space`, spaceOf(name))) : []),
	]).join('\n');
	const [grewMostSpace, spaceGrewBy] = spaces
		.map((name) => [name, medianSlopePerMin(minuteFloors(afterWarmup, spaceOf(name)), spaceOf(name))] as const)
		.reduce((a, b) => (b[1] > a[1] ? b : a), ['none', 0] as const);
	const [grewMost, grewBy] = PARTS.filter(([key]) => key !== 'arrayBuffers')
		.map(
			([key, what]) =>
				[
					what,
					medianSlopePerMin(
						minuteFloors(afterWarmup, (p) => p.parts[key]),
						(p) => p.parts[key],
					),
				] as const,
		)
		.reduce((a, b) => (b[1] > a[1] ? b : a));
	const growing = `${grewMost}, ${sign(grewBy)} MiB/min${grewMost === PARTS[0]![1] ? `; in it, V8's ${grewMostSpace} space, ${sign(spaceGrewBy)} MiB/min` : ''}`;
	const avgCpu = points.reduce((n, p) => n + p.cpuPercent, 0) / points.length;
	const nonzero = [...last].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
	const every = Math.max(1, Math.round(points.length / 20));
	const table = points
		.filter((_, i) => i % every === 0 || i === points.length - 1)
		.map(
			(p) =>
				`| ${p.atS.toFixed(0)} | ${p.rssMiB.toFixed(1)} | ${p.heapMiB.toFixed(1)} | ${p.parts.heapTotal.toFixed(1)} | ${p.parts.external.toFixed(1)} | ${p.parts.mallocMain.toFixed(1)} | ${p.parts.mallocArenas.toFixed(1)} | ${p.parts.otherAnon.toFixed(1)} | ${p.dbMiB.toFixed(1)} | ${p.cpuPercent.toFixed(1)} | ${p.drops} | ${p.windowsStored} |`,
		)
		.join('\n');
	const body = `
\`firesight up\` (hub, dashboard and collector in one process, 97 Hz) for ${MINUTES} min with a CPU
workload (split-60-40 at nice 19), Node's HTTPS server and a keep-alive client (50 requests/s), and
two TCP connections between network namespaces with nftables dropping ${LOSS}% of the packets.
Run: \`npm run soak -- --minutes ${MINUTES}\`, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, on a 2-core machine; load average (1 min) ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} over the run.

- RSS after warm-up (${Math.round(WARMUP_SHARE * 100)}% of the run): ${first.rssMiB.toFixed(1)} MiB at ${first.atS.toFixed(0)} s, ${end.rssMiB.toFixed(1)} MiB at the end; least-squares trend ${sign(growthPerMin)} MiB/min; peak ${peakRss.toFixed(1)} MiB. Lowest RSS of each minute: ${list(rssFloors, rss)} MiB, trend ${sign(rssFloorPerMin)} MiB/min (here and below, a trend of the lowest of each minute is the median of the slopes between every two minutes, so one minute's collection does not swing it).
- JS heap of the main thread (hub, dashboard, the collector's main thread; worker threads and native memory are the rest of RSS): ${first.heapMiB.toFixed(1)} MiB after warm-up, ${end.heapMiB.toFixed(1)} MiB at the end; trend ${sign(heapPerMin)} MiB/min. Lowest of each minute: ${list(heapFloors, heap)} MiB, trend ${sign(heapFloorPerMin)} MiB/min. Live (in use just after V8's latest full collection, free of the garbage the figures before count): ${liveFirst ? `${live(liveFirst).toFixed(1)} MiB after warm-up, ${live(end).toFixed(1)} MiB at the end, trend ${sign(livePerMin)} MiB/min over ${liveAfterWarmup.length} full collections (median of the slopes between every two)` : 'no full collection after warm-up'}.
- Where the RSS is, in MiB, after warm-up and at the end, with the least-squares trend and the lowest of each minute (MiB/min). SQLite's page cache, in the main arena, grows with the database file (last column of the table below) up to its bound, ${SQLITE_CACHE_KIB.toLocaleString('en')} KiB:

| part | after warm-up | end | trend | lowest of each minute | its trend |
|---|---:|---:|---:|---|---:|
${partRows}

- CPU of the \`up\` process: ${avgCpu.toFixed(1)}% of one core on average.
- Drops (lost samples, events, requests or windows) at the end: ${end.drops}.${nonzero.length ? ` Counters above zero, shortened or unnamed ones included: ${nonzero.map(([n, v]) => `\`${n}\` ${v}`).join(', ')}.` : ' No counter above zero.'}
- Caches that started over past their bound (not drops: nothing is lost, ids are read again): the store's profile caches ${hubCounter(lastText, 'firesight_hub_store_cache_resets_total')} times, the hub's redacted command lines ${hubCounter(lastText, 'firesight_hub_command_lines_evicted_total')} let go.
- Profile windows stored: ${end.windowsStored}. \`up\` stopped on SIGTERM with exit code ${exitCode}.
- Against the target (RSS flat after warm-up, no drops at the default rates): RSS ${rssFloorPerMin < 1 ? `not growing (its floor ${sign(rssFloorPerMin)} MiB/min)` : `growing (its floor ${sign(rssFloorPerMin)} MiB/min)`}, JS heap ${livePerMin < 1 ? `not growing (live ${sign(livePerMin)} MiB/min)` : `growing (live ${sign(livePerMin)} MiB/min)`}; drops ${end.drops === 0 ? 'none' : `${end.drops}, not met`}. The part whose floor grew most: ${growing}.

| s | RSS MiB | heap used | heap committed | external | malloc main arena | other arenas | other anonymous | database file MiB | CPU % | drops | windows stored |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${table}
`;
	if (values['no-write']) console.error('soak: --no-write: RESULTS.md not written');
	else if (CPU_PROF !== undefined)
		console.error(`soak: a CPU profile of up is in ${CPU_PROF}; RESULTS.md not written (the profiler's cost is in these figures)`);
	else if (HEAP_SNAPSHOTS !== undefined)
		console.error(`soak: heap snapshots in ${HEAP_SNAPSHOTS}; RESULTS.md not written (their pauses are in these figures)`);
	else writeResultsSection('Soak', body);
	console.error(body);
} finally {
	cleanUp();
}

/** Asks `up` for a heap snapshot (SIGUSR2) and waits until its file is written: its path. */
async function heapSnapshot(up: ChildProcess, dir: string, hub: string): Promise<string> {
	const before = new Set(readdirSync(dir));
	up.kill('SIGUSR2');
	for (let waited = 0; waited < 300_000; waited += 1000) {
		await sleep(1000);
		const name = readdirSync(dir).find((n) => !before.has(n) && n.endsWith('.heapsnapshot'));
		if (name === undefined) continue;
		// Written in one go by the main thread, which answers /healthz only once it is done.
		const res = await fetch(`${hub}/healthz`).catch(() => undefined);
		if (res?.ok) return join(dir, name);
	}
	throw new Error(`no heap snapshot in ${dir} after 5 minutes`);
}

/** Ends the workloads and `up`, and removes the namespaces and files: also on Ctrl-C. */
function cleanUp(): void {
	for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
	pair?.remove();
	pair = undefined;
	for (const c of cleanups.splice(0)) c();
}
