/// <reference lib="dom" />
/**
 * How soon a captured HTTPS request shows in the dashboard after its response: `firesight up`
 * (TLS capture, collector, hub, dashboard), a Node https server it captures, and the Requests page
 * open in headless Chromium, filtered to this run's requests.
 *
 * Each repetition sends one request, at a random phase against every timer on the way, and notes
 * when the response ended at the client. A `/live` client of the benchmark notes when the hub
 * fanned the server's record out, and the page (a MutationObserver) when its row was drawn. Page
 * and Node clocks are both the host's wall clock. A background client keeps a steady flow of other
 * requests going, as on a host that serves traffic (`--background 0` for none).
 *
 * Needs root (BPF) and the dashboard built. Usage:
 *   npx tsx bench/request-visibility.ts [--reps N] [--background REQUESTS_PER_SECOND]
 * Writes the "Request visibility: response to dashboard" section of bench/RESULTS.md.
 */
import { spawn } from 'node:child_process';
import https from 'node:https';
import { loadavg } from 'node:os';
import { waitFor } from '@firesight/e2e/support';
import { freePort } from '@firesight/testing/free-port';
import { makeCert, startNodeServer } from '@firesight/testing/tls-peers';
import { exitUnlessBpf, fmtMs as fmt, percentile, startPageHarness, wall } from './page-harness.ts';
import { writeResultsSection } from './results-file.ts';
import { benchArgs, nonNegativeNumber, wholeNumber } from './bench-args.ts';

const { values } = benchArgs({
	name: 'request-visibility',
	summary: "From an HTTPS request's response to its row on the Requests page in headless Chromium (as root, dashboard built).",
	writes: 'the "Request visibility: response to dashboard" section of bench/RESULTS.md',
	options: {
		reps: { check: wholeNumber(), placeholder: 'N', help: 'requests timed', default: '40' },
		background: { check: nonNegativeNumber(), placeholder: 'RATE', help: 'other requests/s meanwhile, 0 for none', default: '100' },
		'no-write': { flag: true, help: 'print the section only' },
	},
});
const REPS = values.reps;
const BACKGROUND = values.background;
const log = (line: string) => console.error(`request-visibility: ${line}`);

exitUnlessBpf('request-visibility', 'the TLS capture');

/** Open loop at `rate` requests/s on keep-alive sockets, until killed; paths outside this run's tag. */
const BACKGROUND_CLIENT = `
const https = require('https');
const [port, rate] = process.argv.slice(1).map(Number);
const agent = new https.Agent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: false });
let sent = 0;
const start = Date.now();
setInterval(() => {
	const due = Math.floor(((Date.now() - start) * rate) / 1000);
	while (sent < due) {
		sent++;
		https.get({ host: '127.0.0.1', port, path: '/background/' + (sent % 20), agent }, (res) => res.resume()).on('error', () => {});
	}
}, 5);
`;

/**
 * Installed before the page's own scripts: the first time a row of each `pid path` was drawn, by
 * the page's wall clock. The table is filtered to this run, so scanning its rows is cheap.
 */
const ROW_WATCH = `
globalThis.__name = (f) => f;
globalThis.__rowsSeen = {};
const scan = () => {
	for (const row of document.querySelectorAll('[data-testid^="request-row-"]')) {
		const path = row.querySelector('[data-testid="request-path"]')?.getAttribute('title');
		const key = row.getAttribute('data-testid').slice('request-row-'.length) + ' ' + path;
		if (path && !(key in globalThis.__rowsSeen)) globalThis.__rowsSeen[key] = performance.timeOrigin + performance.now();
	}
};
new MutationObserver(scan).observe(document, { childList: true, subtree: true, characterData: true });
`;

const harness = await startPageHarness('visibility');
const cert = makeCert();
const tlsPort = await freePort();
const tag = `vis${Date.now().toString(36)}`;
const agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });

/** Per repetition, ms after the response ended at the client. */
const toSend: number[] = [];
const toFanout: number[] = [];
const toRow: number[] = [];
const sendToFanout: number[] = [];
const fanoutToRow: number[] = [];
let missed = 0;
let background: ReturnType<typeof spawn> | undefined;
const server = await startNodeServer(cert, tlsPort);
const serverPid = server.pid!;

/** One GET; resolves with the wall-clock time its response ended. */
const get = (path: string) =>
	new Promise<number>((resolve, reject) => {
		https
			.get({ host: '127.0.0.1', port: tlsPort, path, agent }, (res) => {
				res.resume();
				res.on('end', () => (res.statusCode === 200 ? resolve(wall()) : reject(new Error(`${path}: status ${res.statusCode}`))));
			})
			.on('error', reject);
	});

try {
	await waitFor('the collector to connect', async () => harness.up.output().includes('connected to '), 30_000);
	// The hub's fan-out, as a /live client sees it: server-side records of this run by path.
	const fanout = new Map<string, { arrival: number; batchTs: number }>();
	await harness.live((msg, arrival) => {
		if (msg.type !== 'requests') return;
		for (const r of (msg.requests as { pid: number; path: string; role: string }[] | undefined) ?? []) {
			if (r.pid === serverPid && r.role === 'server' && !fanout.has(r.path)) fanout.set(r.path, { arrival, batchTs: msg.ts! });
		}
	});
	// The capture attaches to the new server through its exec: warm up until its requests show.
	let n = 0;
	await waitFor(
		'a warm-up request to be captured',
		async () => {
			await get(`/${tag}-warmup/${n++}`);
			return [...fanout.keys()].some((p) => p.startsWith(`/${tag}-warmup/`));
		},
		30_000,
		300,
	);
	if (BACKGROUND > 0) {
		background = spawn(process.execPath, ['-e', BACKGROUND_CLIENT, String(tlsPort), String(BACKGROUND)], { stdio: 'ignore' });
	}
	const page = await harness.browser.newPage({ viewport: { width: 1400, height: 900 } });
	await page.addInitScript(ROW_WATCH);
	await page.goto(`${harness.base}/requests`);
	await page.getByTestId('request-filter').fill(`/${tag}/`);
	await new Promise((r) => setTimeout(r, 2000));

	for (let rep = 0; rep < REPS; rep++) {
		// A random phase against the ring-buffer drain, the batch timer, the hub and the page's publish.
		await new Promise((r) => setTimeout(r, 300 + Math.random() * 900));
		const path = `/${tag}/${rep}`;
		const responded = await get(path);
		const key = `${serverPid} ${path}`;
		let row: number | undefined;
		const deadline = Date.now() + 15_000;
		while (row === undefined && Date.now() < deadline) {
			row = await page.evaluate((k) => (globalThis as unknown as { __rowsSeen: Record<string, number> }).__rowsSeen[k], key);
			if (row === undefined) await new Promise((r) => setTimeout(r, 50));
		}
		const cut = fanout.get(path);
		if (row === undefined) {
			missed++;
			log(`rep ${rep + 1}: ${path} not shown within 15 s${cut ? ` (fanned out after ${Math.round(cut.arrival - responded)} ms)` : ''}`);
			continue;
		}
		toRow.push(row - responded);
		if (cut) {
			toSend.push(cut.batchTs - responded);
			toFanout.push(cut.arrival - responded);
			sendToFanout.push(cut.arrival - cut.batchTs);
			fanoutToRow.push(row - cut.arrival);
		}
		log(
			`rep ${rep + 1}: row after ${Math.round(row - responded)} ms` +
				(cut ? ` (batch sent +${Math.round(cut.batchTs - responded)}, fan-out +${Math.round(cut.arrival - responded)})` : ''),
		);
	}
	await page.close();
} finally {
	background?.kill('SIGKILL');
	agent.destroy();
	server.kill('SIGKILL');
	await harness.close();
	cert.remove();
}

const line = (what: string, xs: number[], bold = false) => {
	const p95 = fmt(percentile(xs, 95));
	return `| ${what} | ${fmt(percentile(xs, 50))} | ${bold ? `**${p95}**` : p95} | ${fmt(Math.max(...xs))} |`;
};
const p95 = percentile(toRow, 95);
const body = `
\`firesight up\` (TLS capture, collector, hub, dashboard) and a Node https server it captures, with the
Requests page open in headless Chromium and filtered to this run's paths. ${REPS} times, at a random
phase (300-1200 ms apart), the benchmark sends one GET on a keep-alive socket and notes when its
response ended; a \`/live\` client notes when the hub fanned out the server's record of it, and the page
(a MutationObserver, wall clock) when its row was drawn. ${BACKGROUND > 0 ? `A background client sends ${BACKGROUND} other requests/s to the same server throughout.` : 'No other requests.'}
${new Date().toISOString().slice(0, 10)}, 2 shared CPUs, 1-minute load average at the end: ${loadavg()[0]!.toFixed(1)}.

| ms after the response ended | p50 | p95 | max |
|---|---|---|---|
${line('row drawn on the Requests page', toRow, true)}
${line('the collector sent its batch (ring-buffer drain, HTTP/1 parse, batch timer)', toSend)}
${line('the hub fanned it out on `/live` (ingest, store write, fan-out)', toFanout)}

| ms | p50 | p95 | max |
|---|---|---|---|
${line('batch sent → hub fan-out', sendToFanout)}
${line('fan-out → row drawn (live store publish, React)', fanoutToRow)}

Target p95 under 1000 ms: ${p95 < 1000 ? 'met' : 'missed'} (${toRow.length} measured${missed ? `, ${missed} not shown within 15 s` : ''}).
What the path waits for, at most: the collector's drain of the TLS ring buffer (it wakes on a poll
timeout of 100 ms, records do not wake it one by one), the batch timer (50 ms after a drain brought
requests), the hub's write of the batch before its fan-out, and the page's live store, which publishes
new requests at once after a quiet spell and at most 400 ms after its last publish (everything else
once a second). The collector's clock stamps the batch,
the others are this host's wall clock too.

Run: \`npx tsx bench/request-visibility.ts [--reps N] [--background N]\` (root; needs the dashboard built).
`;
console.log(body);
if (!values['no-write']) writeResultsSection('Request visibility: response to dashboard', body);
log(`p50 ${fmt(percentile(toRow, 50))} ms, p95 ${fmt(p95)} ms`);
