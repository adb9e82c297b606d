/**
 * Hub memory with browsers on the live stream: the hub's RSS (and CPU) with 0 browsers, 1 real
 * Chromium page on the Processes page, and that page plus 20 more `/live` WebSocket clients, while
 * a collector streams this host's live process table every second and a profile window every 10 s.
 *
 * The hub (`firesight hub`) and the collector (`firesight collector`, BPF, needs root) run as
 * separate processes so the hub's RSS is its own. Without root the collector is replaced by the
 * fake collector (five made-up processes), and the results say so.
 *
 * Usage: node --import tsx bench/hub-browsers.ts [--settle SECS] [--measure SECS] [--clients N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { launchChromium } from '@firesight/e2e/browser';
import { firesightBin, freePort, healthy, waitFor } from '@firesight/e2e/support';
import { bpfUnavailableReason } from '@firesight/testing/bpf-test-gate';
import { startFakeCollector, type FakeCollector } from '@firesight/testing/fake-collector';
import { cpuSeconds, rssMiB } from './proc-usage.ts';
import { writeResultsSection } from './results-file.ts';
import { benchArgs, nonNegativeNumber, positiveNumber, wholeNumber } from './bench-args.ts';

const { values } = benchArgs({
	name: 'hub-browsers',
	summary:
		'Hub RSS and CPU with 0 browsers, 1 Chromium page and 20 more /live clients while a collector streams (BPF as root, else a fake collector).',
	writes: 'the "Hub memory with live browsers" section of bench/RESULTS.md',
	options: {
		settle: { check: nonNegativeNumber(), placeholder: 'SECS', help: 'seconds to settle before each phase is measured', default: '5' },
		measure: { check: positiveNumber(), placeholder: 'SECS', help: 'seconds each phase is measured', default: '20' },
		clients: { check: wholeNumber(), placeholder: 'N', help: '/live WebSocket clients beside the page', default: '20' },
	},
});
const SETTLE_MS = values.settle * 1000;
const MEASURE_MS = values.measure * 1000;
const CLIENTS = values.clients;
const log = (line: string) => console.error(`hub-browsers: ${line}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

interface Phase {
	name: string;
	rssMedian: number;
	rssMax: number;
	cpuPercent: number;
	/** Live messages one ws client received per second, when there were clients. */
	messagesPerSec: number | null;
	bytesPerSec: number | null;
}

/** Samples the hub's RSS every 500 ms and its CPU over the whole phase. */
async function measure(pid: number): Promise<{ rssMedian: number; rssMax: number; cpuPercent: number }> {
	await new Promise((r) => setTimeout(r, SETTLE_MS));
	const c0 = cpuSeconds(pid) ?? NaN;
	const t0 = performance.now();
	const samples: number[] = [];
	while (performance.now() - t0 < MEASURE_MS) {
		const m = rssMiB(pid);
		if (m) samples.push(m.rss);
		await new Promise((r) => setTimeout(r, 500));
	}
	const cpu = ((cpuSeconds(pid) ?? NaN) - c0) / ((performance.now() - t0) / 1000);
	return { rssMedian: median(samples), rssMax: Math.max(...samples), cpuPercent: cpu * 100 };
}

function stop(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	const exited = new Promise<void>((r) => child.once('exit', () => r()));
	child.kill('SIGINT');
	const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
	return exited.then(() => clearTimeout(timer));
}

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), 'firesight-bench-hub-'));
let hubLog = '';
const hub = spawn(process.execPath, [firesightBin, 'hub', '--listen', `127.0.0.1:${port}`, '--data', dataDir], {
	env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
	stdio: ['ignore', 'pipe', 'pipe'],
});
hub.stdout.on('data', (d: Buffer) => (hubLog += d.toString()));
hub.stderr.on('data', (d: Buffer) => (hubLog += d.toString()));
const bpf = bpfUnavailableReason() === undefined;
let collector: ChildProcess | undefined;
let demo: FakeCollector | undefined;
let collectorLog = '';
const browser = await launchChromium();
const clients: WebSocket[] = [];
const phases: Phase[] = [];
try {
	await waitFor(
		'the hub',
		async () => {
			if (hub.exitCode !== null) throw new Error(`firesight hub exited: ${hubLog}`);
			return hubLog.includes('Collector token: ') && healthy(base);
		},
		60_000,
	);
	// A hub given --token would want it from browsers too; the one it makes for collectors does not.
	const token = /Collector token: (\S+)/.exec(hubLog)?.[1];
	if (token === undefined) throw new Error(`the hub printed no collector token: ${hubLog}`);
	if (bpf) {
		collector = spawn(process.execPath, [firesightBin, 'collector', '--hub', base, '--token', token], {
			stdio: ['ignore', 'ignore', 'pipe'],
		});
		collector.stderr?.on('data', (d: Buffer) => (collectorLog += d.toString()));
	} else {
		demo = await startFakeCollector({ hubUrl: base, token, windowMs: 10_000 });
	}
	await waitFor(
		'a connected collector',
		async () => {
			if (collector && collector.exitCode !== null) throw new Error(`firesight collector exited: ${collectorLog}`);
			const res = await fetch(`${base}/trpc/hosts.list`);
			const hosts = ((await res.json()) as { result: { data: { connected: boolean }[] } }).result.data;
			return hosts.some((h) => h.connected);
		},
		30_000,
	).catch((err: Error) => {
		throw new Error(`${err.message}\ncollector: ${collectorLog}\nhub: ${hubLog}`);
	});

	const hubPid = hub.pid!;
	log('0 browsers');
	phases.push({ name: '0 browsers', ...(await measure(hubPid)), messagesPerSec: null, bytesPerSec: null });

	const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
	await page.goto(base);
	await page.waitForSelector('[data-testid^="process-row-"]', { timeout: 30_000 });
	log('1 browser');
	phases.push({ name: '1 browser (Chromium, Processes page)', ...(await measure(hubPid)), messagesPerSec: null, bytesPerSec: null });

	let messages = 0;
	let bytes = 0;
	for (let i = 0; i < CLIENTS; i++) {
		const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/live`);
		ws.on('message', (data: Buffer) => {
			messages++;
			bytes += data.length;
		});
		ws.on('error', () => {});
		clients.push(ws);
	}
	await waitFor('live clients', async () => clients.every((ws) => ws.readyState === WebSocket.OPEN), 10_000);
	log(`${CLIENTS + 1} browsers`);
	await new Promise((r) => setTimeout(r, SETTLE_MS));
	const m0 = messages;
	const b0 = bytes;
	const t0 = performance.now();
	const m = await measure(hubPid);
	const seconds = (performance.now() - t0) / 1000;
	phases.push({
		name: `${CLIENTS + 1} browsers (Chromium + ${CLIENTS} \`/live\` clients)`,
		...m,
		messagesPerSec: (messages - m0) / CLIENTS / seconds,
		bytesPerSec: (bytes - b0) / CLIENTS / seconds,
	});
	const dropped = clients.filter((ws) => ws.readyState !== WebSocket.OPEN).length;
	await page.close();

	const first = phases[0]!;
	const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
	const rows = phases.map(
		(p) =>
			`| ${p.name} | ${fmt(p.rssMedian)} | ${fmt(p.rssMax)} | ${p === first ? '–' : `${p.rssMedian - first.rssMedian >= 0 ? '+' : ''}${fmt(p.rssMedian - first.rssMedian)} (${fmt(p.rssMedian / first.rssMedian, 2)}x)`} | ${fmt(p.cpuPercent, 1)} | ${p.messagesPerSec === null ? '–' : `${fmt(p.messagesPerSec, 1)} msg/s, ${fmt((p.bytesPerSec ?? 0) / 1024, 1)} KiB/s`} |`,
	);
	writeResultsSection(
		'Hub memory with live browsers',
		`
\`firesight hub\` in its own process, the dashboard built, ${bpf ? "`firesight collector` (BPF, 97 Hz) streaming this host's live process table every second and a profile window every 10 s" : 'the fake collector streaming (no root here: five made-up processes, so the live messages are small)'}.
Each phase settles ${SETTLE_MS / 1000} s, then the hub's RSS is read every 500 ms for ${MEASURE_MS / 1000} s (median and peak) and its CPU
over the same time. The phases run in order on one hub, so later ones include whatever earlier ones left
allocated. ${new Date().toISOString().slice(0, 10)}, 2 shared CPUs.

| browsers on \`/live\` | hub RSS MiB (median) | peak | vs 0 browsers MiB | hub CPU % of a core | per client |
|---|---|---|---|---|---|
${rows.join('\n')}

${dropped ? `${dropped} of the ${CLIENTS} clients were disconnected during the phase.` : `All ${CLIENTS} clients stayed connected.`}

Run: \`node --import tsx bench/hub-browsers.ts [--settle S] [--measure S] [--clients N]\`.
`,
	);
	log(phases.map((p) => `${p.name}: ${fmt(p.rssMedian)} MiB`).join('; '));
} finally {
	for (const ws of clients) ws.terminate();
	await browser.close().catch(() => {});
	await demo?.close();
	if (collector) await stop(collector);
	await stop(hub);
	rmSync(dataDir, { recursive: true, force: true });
}
