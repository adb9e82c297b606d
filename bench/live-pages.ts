/// <reference lib="dom" />
/**
 * How much of the time the live pages block the browser's main thread under load: a hub (the
 * built dashboard) fed by the fake busy-host collector (`@firesight/testing/fake-live-load`:
 * 1,000 processes, 1,000 connections and 100 requests/s through the real ingest), and each live
 * page open in headless Chromium. A PerformanceObserver counts `longtask` entries (tasks over
 * 50 ms); the share is their summed duration over the measured time. Pages are measured in
 * interleaved rounds and the median round is reported.
 *
 * `--save FILE` keeps the numbers as JSON; `--baseline FILE` puts an earlier run's numbers (of
 * another checkout, built) beside this one's, with the ratio.
 *
 * Usage: node --import tsx bench/live-pages.ts [--measure SECS] [--rounds N] [--save FILE] [--baseline FILE] [--label TEXT]
 *        [--results FILE] (write the section from a saved run, without measuring)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from '@firesight/e2e/browser';
import { freePort } from '@firesight/e2e/support';
import { startFakeLiveLoad } from '@firesight/testing/fake-live-load';
import { startHub } from '@firesight/web/server';
import { writeResultsSection } from './results-file.ts';
import { benchArgs, positiveNumber, text, wholeNumber } from './bench-args.ts';

const { values } = benchArgs({
	name: 'live-pages',
	summary:
		"Share of time each live page blocks Chromium's main thread in long tasks, fed a fake busy host through the hub's ingest (needs the dashboard built).",
	writes: 'the "Live pages: main-thread long tasks under load" section of bench/RESULTS.md',
	options: {
		measure: { check: positiveNumber(), placeholder: 'SECS', help: 'seconds each page is measured in a round', default: '20' },
		rounds: { check: wholeNumber(), placeholder: 'N', help: 'interleaved rounds', default: '3' },
		save: { check: text(), placeholder: 'FILE', help: 'also keep the numbers as JSON in FILE' },
		results: { check: text(), placeholder: 'FILE', help: 'write the section from a saved run, without measuring' },
		baseline: { check: text(), placeholder: 'FILE', help: "a saved run of another checkout to set beside this one's" },
		label: { check: text(), placeholder: 'TEXT', help: "this run's name in the section", default: 'this checkout' },
		'baseline-label': { check: text(), placeholder: 'TEXT', help: "the baseline's name in the section", default: 'baseline' },
		note: { check: text(), placeholder: 'TEXT', help: 'a sentence for the section: what the baseline and this run are' },
	},
});
const MEASURE_MS = values.measure * 1000;
const ROUNDS = values.rounds;
const log = (line: string) => console.error(`live-pages: ${line}`);
/** The middle value; the mean of the middle two for an even count. */
function median(xs: number[]): number {
	const s = [...xs].sort((a, b) => a - b);
	const mid = Math.floor(s.length / 2);
	if (s.length === 0) return NaN;
	return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const PAGES = [
	{ name: 'Processes', path: '/', ready: '[data-testid^="process-row-"]' },
	{ name: 'Network', path: '/network', ready: '[data-testid^="connection-row-"]' },
	{ name: 'Requests', path: '/requests', ready: '[data-testid^="request-row-"]' },
] as const;

interface PageResult {
	/** Share of the measured time inside long tasks, 0..1, per round. */
	shares: number[];
	/** Long tasks per round. */
	tasks: number[];
	/** The longest task seen in any round, ms. */
	longestMs: number;
	/** Share of the measured time spent handling `/live` messages (decoding and validating them), per round. */
	messageShares?: number[];
	/** The longest single message handling seen in the measured time of any round, ms. */
	messageLongestMs?: number;
}
type PageResults = Record<string, PageResult>;
interface Results {
	pages: PageResults;
	/** The host's 1-minute load average at the start and at the end of the run. */
	loadAverage?: [number, number];
	measureMs?: number;
	rounds?: number;
}

/** An earlier run's file; the first version held the pages alone. */
function readResults(file: string): Results {
	const parsed = JSON.parse(readFileSync(file, 'utf8')) as Results | PageResults;
	return 'pages' in parsed && typeof parsed.pages === 'object' ? (parsed as Results) : { pages: parsed as PageResults };
}

/** Installed before any page script: sums long tasks from the moment the page starts. */
const OBSERVER = `
globalThis.__longTasks = { total: 0, count: 0, longest: 0 };
new PerformanceObserver((list) => {
	for (const e of list.getEntries()) {
		globalThis.__longTasks.total += e.duration;
		globalThis.__longTasks.count += 1;
		globalThis.__longTasks.longest = Math.max(globalThis.__longTasks.longest, e.duration);
	}
}).observe({ type: 'longtask', buffered: true });
// Time in the /live socket's message handler: decoding and validating each frame on the main thread.
globalThis.__liveMessages = { total: 0, count: 0, longest: 0 };
{
	const handler = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage');
	Object.defineProperty(WebSocket.prototype, 'onmessage', {
		configurable: true,
		get() { return handler.get.call(this); },
		set(fn) {
			handler.set.call(this, typeof fn !== 'function' ? fn : function (event) {
				const start = performance.now();
				try { return fn.call(this, event); } finally {
					const took = performance.now() - start;
					const m = globalThis.__liveMessages;
					m.total += took;
					m.count += 1;
					m.longest = Math.max(m.longest, took);
				}
			});
		},
	});
}
`;

async function measure(): Promise<Results> {
	const loadAtStart = loadavg()[0]!;
	const dataDir = mkdtempSync(join(tmpdir(), 'firesight-bench-live-pages-'));
	const port = await freePort();
	const token = 'bench-token';
	const hub = await startHub({ listen: { host: '127.0.0.1', port }, token, dataDir, auth: false });
	const load = await startFakeLiveLoad({ hubUrl: hub.url, token });
	const browser = await launchChromium();
	const results: PageResults = Object.fromEntries(
		PAGES.map((p) => [p.name, { shares: [], tasks: [], longestMs: 0, messageShares: [], messageLongestMs: 0 }]),
	);
	try {
		// Stored request and retransmit windows for the endpoint table and the charts.
		await new Promise((r) => setTimeout(r, 11_000));
		for (let round = 0; round < ROUNDS; round++) {
			for (const spec of PAGES) {
				const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
				await page.addInitScript(OBSERVER);
				await page.goto(`${hub.url}${spec.path}`);
				await page.waitForSelector(spec.ready, { timeout: 60_000 });
				// Past the first load: what is measured is the page living with the stream.
				await page.waitForTimeout(3_000);
				type Counted = { total: number; count: number; longest: number };
				const sample = () =>
					page.evaluate(() => {
						const g = globalThis as unknown as { __longTasks: Counted; __liveMessages: Counted };
						return { ...g.__longTasks, messages: { ...g.__liveMessages }, at: performance.now() };
					});
				// The longest message is the measured time's: the first snapshot's decoding is part of the load.
				await page.evaluate(() => void ((globalThis as unknown as { __liveMessages: { longest: number } }).__liveMessages.longest = 0));
				const start = await sample();
				await page.waitForTimeout(MEASURE_MS);
				const end = await sample();
				const share = (end.total - start.total) / (end.at - start.at);
				const messageShare = (end.messages.total - start.messages.total) / (end.at - start.at);
				const result = results[spec.name]!;
				result.shares.push(share);
				result.tasks.push(end.count - start.count);
				result.longestMs = Math.max(result.longestMs, end.longest);
				result.messageShares!.push(messageShare);
				result.messageLongestMs = Math.max(result.messageLongestMs ?? 0, end.messages.longest);
				log(
					`round ${round + 1} ${spec.name}: ${(share * 100).toFixed(1)}% blocked, ${end.count - start.count} long tasks, longest ${Math.round(end.longest)} ms; /live messages ${(messageShare * 100).toFixed(1)}% of the time (${end.messages.count - start.messages.count}), longest ${end.messages.longest.toFixed(1)} ms`,
				);
				await page.close();
			}
		}
	} finally {
		await browser.close().catch(() => {});
		await load.close();
		await hub.close();
		rmSync(dataDir, { recursive: true, force: true });
	}
	return { pages: results, loadAverage: [loadAtStart, loadavg()[0]!], measureMs: MEASURE_MS, rounds: ROUNDS };
}

// `--results FILE` writes the section from a saved run instead of measuring again.
const run = values.results ? readResults(values.results) : await measure();
const results = run.pages;
if (values.save) writeFileSync(values.save, JSON.stringify(run, null, '\t'));
const baselineRun = values.baseline ? readResults(values.baseline) : null;
const baseline = baselineRun?.pages ?? null;
const loadText = (r: Results | null) =>
	r?.loadAverage
		? `load average ${r.loadAverage[0].toFixed(1)} at the start, ${r.loadAverage[1].toFixed(1)} at the end`
		: 'load average not recorded';
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const rows = PAGES.map(({ name }) => {
	const now = results[name]!;
	const share = median(now.shares);
	const before = baseline?.[name];
	const beforeShare = before ? median(before.shares) : NaN;
	const cells = [
		name,
		...(before ? [pct(beforeShare), `${median(before.tasks)}`, `${Math.round(before.longestMs)}`] : []),
		`**${pct(share)}**`,
		`${median(now.tasks)}`,
		`${Math.round(now.longestMs)}`,
		now.messageShares?.length ? pct(median(now.messageShares)) : '–',
		now.messageLongestMs !== undefined ? now.messageLongestMs.toFixed(1) : '–',
		...(before ? [share > 0 ? `${(beforeShare / share).toFixed(1)}× less` : 'no long task left'] : []),
		share < 0.1 ? 'met' : 'missed',
	];
	return `| ${cells.join(' | ')} |`;
});
const b = values['baseline-label'];
const a = values.label;
const header = baseline
	? `| page | ${b}: blocked | ${b}: long tasks | ${b}: longest ms | ${a}: blocked | ${a}: long tasks | ${a}: longest ms | ${a}: /live messages | ${a}: longest message ms | before / after | target < 10% |\n|---|---|---|---|---|---|---|---|---|---|---|`
	: `| page | blocked | long tasks | longest ms | /live messages | longest message ms | target < 10% |\n|---|---|---|---|---|---|---|`;
writeResultsSection(
	'Live pages: main-thread long tasks under load',
	`
A hub serving the built dashboard, fed through its real ingest by a fake collector of a busy host
(\`@firesight/testing/fake-live-load\`): 1,000 processes (a quarter of them kernel threads, most idle),
1,000 connections and 100 HTTPS requests/s (each from a new \`curl\` pid, served by three \`nginx\`
workers), with stored request and retransmit windows every 10 s. Each live page open in headless Debian
Chromium at 1440×900; a \`PerformanceObserver\` sums the \`longtask\` entries (tasks over 50 ms) over
${(run.measureMs ?? MEASURE_MS) / 1000} s after the page has settled for 3 s. ${run.rounds ?? ROUNDS} interleaved rounds${baselineRun?.rounds ? ` (${values['baseline-label']}: ${baselineRun.rounds})` : ''}, medians shown; the longest task is
the longest seen in any round, the first load included. ${new Date().toISOString().slice(0, 10)}, 2 shared CPUs; the hub, the
fake collector and the browser share them.

"Blocked" is the share of the measured time the main thread spent in long tasks. "/live messages" is the
share it spent in the \`/live\` socket's message handler (decoding and validating each frame; the live
store publishes once a second after it), and the longest single message that took.

${header}
${rows.join('\n')}

${a}: ${loadText(run)}.${baseline ? ` ${b}: ${loadText(baselineRun)}. Both on the same machine, shared with other work, with the same fake load.` : ''}

${values.note ? `${values.note}\n\n` : ''}Run: \`node --import tsx bench/live-pages.ts [--measure SECS] [--rounds N] [--save FILE] [--baseline FILE] [--results FILE] [--note TEXT]\` (needs the dashboard built; no root).
`,
);
