/// <reference lib="dom" />
/**
 * Time to first paint of the flame graph in headless Chromium, for merged profiles with 1k, 10k
 * and 100k distinct stacks, against a real hub (real SQLite, windows pushed through /ingest).
 *
 * For each size the Profiles page is opened on an absolute range holding only that size's host;
 * a MutationObserver installed before any page script notes when the flame graph's canvas is first
 * drawn, and a frame later counts as painted. Resource timing gives the tRPC flame query's
 * start and end in the same clock, so navigation -> paint splits into page load, query (server)
 * and drawing. The hub prunes frames narrower than a pixel (the page asks for 1/viewport width);
 * the server is also timed alone, with that pruning and without it.
 *
 * Usage: node --import tsx bench/flame-render.ts [--reps N] [--windows N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { CollectorMessage, Frame, ProfileWindow } from '@firesight/protocol';
import { openStorage } from '@firesight/store';
import { startHub } from '@firesight/web/server';
import { launchChromium } from '@firesight/e2e/browser';
import { fakeWindow } from '@firesight/testing/fake-collector';
import { median, ms, pageProbe, timePaint } from './paint-timing.ts';
import { writeResultsSection } from './results-file.ts';
import { benchArgs, nameList, wholeNumber } from './bench-args.ts';

const { values, fail } = benchArgs({
	name: 'flame-render',
	summary: 'Time to first paint of the flame graph in headless Chromium for 1k, 10k and 100k distinct stacks, against a real hub.',
	writes: 'the "Flame graph first paint" section of bench/RESULTS.md',
	options: {
		reps: { check: wholeNumber(), placeholder: 'N', help: 'page loads of each case', default: '5' },
		windows: { check: wholeNumber(), placeholder: 'N', help: '10 s windows stored for each case', default: '3' },
		only: { check: nameList(), placeholder: 'A,B', help: 'only these cases, e.g. demo-10k,tree-100k (default all)' },
	},
});
const REPS = values.reps;
const WINDOWS = values.windows;
const SIZES = [1_000, 10_000, 100_000];
const VIEWPORT = { width: 1280, height: 900 };
const TARGET_MS: Record<number, number> = { 10_000: 300, 100_000: 1000 };
const WINDOW_MS = 10_000;

const log = (line: string) => console.error(`flame-render: ${line}`);

/** How long storing one window blocks the hub, first with all stacks new, then repeated. */
async function storeCost(size: number): Promise<{ first: number; repeat: number }> {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-bench-store-'));
	const storage = await openStorage({ backend: 'sqlite', dataDir: dir, pruneIntervalMs: 0 });
	try {
		const times: number[] = [];
		for (let i = 0; i < 4; i++) {
			const w = fakeWindow({ host: 'store-bench', startMs: 1_700_000_000_000 + i * WINDOW_MS, durationMs: WINDOW_MS, extraStacks: size });
			const t0 = performance.now();
			await storage.profiles.insertWindow(w);
			times.push(performance.now() - t0);
		}
		return { first: times[0]!, repeat: median(times.slice(1)) };
	} finally {
		await storage.close();
		rmSync(dir, { recursive: true, force: true });
	}
}

/**
 * The other shape: `size` leaves of a ten-way tree (a stack per leaf, one sample each, the path
 * naming every prefix of the leaf's number), so every level is as wide as the next one together
 * and the pixel pruning keeps the upper levels: about a thousand nodes survive at 100k stacks.
 */
function treeWindow(host: string, startMs: number, durationMs: number, size: number): ProfileWindow {
	const digits = Math.max(1, Math.ceil(Math.log10(size)));
	const frames: Frame[] = [
		{ name: '_start', module: 'tree', kind: 'user' },
		{ name: 'main', module: 'tree', kind: 'user' },
		{ name: 'dispatch', module: 'tree', kind: 'user' },
	];
	const ids = new Map<string, number>();
	const samples: ProfileWindow['samples'][number][] = [];
	for (let i = 0; i < size; i++) {
		const name = String(i).padStart(digits, '0');
		const stack = [0, 1, 2];
		for (let level = 1; level <= digits; level++) {
			const prefix = name.slice(0, level);
			let id = ids.get(prefix);
			if (id === undefined) {
				id = frames.push({ name: `fn_${prefix}`, module: 'tree', kind: level === digits ? 'jit' : 'user' }) - 1;
				ids.set(prefix, id);
			}
			stack.push(id);
		}
		samples.push({ pid: 6000, comm: 'tree', stack, weight: 1 });
	}
	return { host, startMs, durationMs, frequencyHz: 99, frames, samples };
}

const SHAPES = {
	demo: (host: string, startMs: number, size: number) => fakeWindow({ host, startMs, durationMs: WINDOW_MS, extraStacks: size }),
	tree: (host: string, startMs: number, size: number) => treeWindow(host, startMs, WINDOW_MS, size),
} as const;
type Shape = keyof typeof SHAPES;
const ALL_CASES = (Object.keys(SHAPES) as Shape[]).flatMap((shape) =>
	SIZES.map((size) => ({ shape, size, key: `${shape}-${size / 1000}k` })),
);
// A misspelt case would otherwise leave nothing to run, and say nothing.
const unknownCase = values.only?.find((key) => !ALL_CASES.some((c) => c.key === key));
if (unknownCase !== undefined) fail(`--only: no case named '${unknownCase}' (cases: ${ALL_CASES.map((c) => c.key).join(', ')})`);
const CASES = ALL_CASES.filter((c) => values.only === undefined || values.only.includes(c.key));

async function ingest(url: string, token: string, messages: CollectorMessage[]): Promise<void> {
	const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ingest`, { headers: { authorization: `Bearer ${token}` } });
	await new Promise<void>((resolve, reject) => {
		ws.once('open', () => resolve());
		ws.once('error', reject);
	});
	for (const m of messages) ws.send(JSON.stringify(m));
	await new Promise<void>((resolve) => {
		ws.once('close', () => resolve());
		// Closing after the sends: the hub reads every queued message before the close frame.
		ws.close();
	});
}

interface ServerTiming {
	ms: number;
	nodes: number;
	pruned: number;
	bytes: number;
	totalSamples: number;
}

async function serverFlame(url: string, input: Record<string, unknown>): Promise<ServerTiming> {
	const t0 = performance.now();
	const res = await fetch(`${url}/trpc/profile.flame?input=${encodeURIComponent(JSON.stringify(input))}`);
	const text = await res.text();
	const elapsed = performance.now() - t0;
	if (!res.ok) throw new Error(`profile.flame: HTTP ${res.status}: ${text.slice(0, 300)}`);
	const data = (JSON.parse(text) as { result: { data: { nodes: number; prunedNodes: number; totalSamples: number } } }).result.data;
	return { ms: elapsed, nodes: data.nodes, pruned: data.prunedNodes, bytes: text.length, totalSamples: data.totalSamples };
}

interface PageTiming {
	navToPaint: number;
	queryStart: number;
	queryEnd: number;
	drawn: number;
	painted: number;
	/** profile.flame requests the page made by then (1 expected). */
	flames: number;
}

const loadStart = loadavg()[0]!;
const dataDir = mkdtempSync(join(tmpdir(), 'firesight-bench-flame-'));
const token = 'bench-token';
const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir, token, log: () => {} });
const browser = await launchChromium();
const rows: string[] = [];
const serverRows: string[] = [];
const verdicts: string[] = [];
try {
	const base = Date.now() - 60 * 60_000;
	const ranges = new Map<string, { from: number; to: number; host: string }>();
	for (const { shape, size, key: host } of CASES) {
		const messages: CollectorMessage[] = [{ type: 'hello', host, version: 'bench', frequencyHz: 99 }];
		for (let i = 0; i < WINDOWS; i++) messages.push({ type: 'profile', window: SHAPES[shape](host, base + i * WINDOW_MS, size) });
		await ingest(hub.url, token, messages);
		const deadline = Date.now() + 120_000;
		for (;;) {
			const stored = (await hub.storage.profiles.listHosts()).find((h) => h.host === host);
			if (stored?.windows === WINDOWS) break;
			if (Date.now() > deadline) throw new Error(`the hub did not store ${host}'s windows`);
			await new Promise((r) => setTimeout(r, 100));
		}
		ranges.set(host, { from: base - 1, to: base + WINDOWS * WINDOW_MS + 1, host });
		log(`ingested ${WINDOWS} windows of ${host}`);
	}

	const context = await browser.newContext({ viewport: VIEWPORT });
	await context.addInitScript(pageProbe);
	const open = async (key: string): Promise<PageTiming> => {
		const r = ranges.get(key)!;
		const t = await timePaint(context, `${hub.url}/profiles?host=${r.host}&from=${r.from}&to=${r.to}&view=graph`, 'profile.flame', 60_000);
		return { navToPaint: t.painted, queryStart: t.queryStart, queryEnd: t.queryEnd, drawn: t.drawn, painted: t.painted, flames: t.queries };
	};
	// Warm-up: the first load compiles the page's scripts and fills the HTTP cache.
	await open(CASES[0]!.key);
	await open(CASES[0]!.key);

	for (const { shape, size, key } of CASES) {
		const r = ranges.get(key)!;
		const pages: PageTiming[] = [];
		// Interleave page loads and the server-only query so both see the same machine load; the
		// unpruned queries (megabytes of garbage for the collector) come after, not in between.
		const pruned: ServerTiming[] = [];
		const full: ServerTiming[] = [];
		for (let rep = 0; rep < REPS; rep++) {
			pages.push(await open(key));
			pruned.push(await serverFlame(hub.url, { fromMs: r.from, toMs: r.to, host: r.host, minFraction: 1 / VIEWPORT.width }));
		}
		for (let rep = 0; rep < REPS; rep++)
			full.push(await serverFlame(hub.url, { fromMs: r.from, toMs: r.to, host: r.host, minFraction: 0 }));
		const navToPaint = median(pages.map((p) => p.navToPaint));
		const queryToPaint = median(pages.map((p) => p.painted - p.queryStart));
		const query = median(pages.map((p) => p.queryEnd - p.queryStart));
		const draw = median(pages.map((p) => p.painted - p.queryEnd));
		const load = median(pages.map((p) => p.queryStart));
		const p0 = pruned[0]!;
		rows.push(
			`| ${shape} | ${size / 1000}k | ${ms(navToPaint)} | ${ms(load)} | ${ms(query)} | ${ms(draw)} | **${ms(queryToPaint)}** | ${p0.nodes} | ${p0.pruned} |`,
		);
		const f0 = full[0]!;
		serverRows.push(
			`| ${shape} | ${size / 1000}k | ${p0.totalSamples} | ${ms(median(pruned.map((t) => t.ms)))} | ${p0.nodes} | ${(p0.bytes / 1024).toFixed(0)} | ${ms(median(full.map((t) => t.ms)))} | ${f0.nodes} | ${(f0.bytes / 1024).toFixed(0)} |`,
		);
		const target = TARGET_MS[size];
		if (target !== undefined) {
			verdicts.push(
				`${shape}, ${size / 1000}k stacks: query start to paint ${ms(queryToPaint)} ms against ${target} ms (${queryToPaint <= target ? 'met' : 'missed'}); navigation to paint ${ms(navToPaint)} ms (${navToPaint <= target ? 'met' : 'missed'}).`,
			);
		}
		log(`${key}: flame requests per load ${pages.map((p) => p.flames).join(',')}`);
		log(`${key}: nav→paint ${ms(navToPaint)} ms, query→paint ${ms(queryToPaint)} ms, query ${ms(query)} ms, draw ${ms(draw)} ms`);
	}
	await context.close();

	// One after another: each insert blocks, so overlapping them would time the others too.
	const store: [number, { first: number; repeat: number }][] = [];
	for (const size of SIZES) store.push([size, await storeCost(size)]);
	log('done');
	const when = new Date().toISOString().slice(0, 10);
	writeResultsSection(
		'Flame graph first paint',
		`
Headless Chromium (Debian's, ${VIEWPORT.width}x${VIEWPORT.height}) opening the Profiles page of a real hub (SQLite, the
built dashboard) on a range of ${WINDOWS} stored ${WINDOW_MS / 1000} s windows, each with the given number of distinct stacks, pushed
through \`/ingest\`, in two shapes. *demo*: the fake collector's \`fakeWindow\` (five processes, 15 stacks, about 156 samples/s) plus N generated
\`gen_i\` leaves of one sample each per window: every generated leaf is narrower than a pixel, so pruning
leaves a tiny graph and the case measures the query. *tree*: N leaves of a ten-way tree of
\`fn_<prefix>\` frames, one sample each: upper levels stay wider than a pixel, so about 1.1k nodes are
painted at every size and the case measures drawing too.
Median of ${REPS} page loads per size after two warm-up loads; ${when}, 2 shared CPUs, 1-minute load average
${loadStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end (other work shares the machine: read the split
rather than the last millisecond).

Columns, all in ms, on the page's own clock: navigation to paint; page load (navigation to the
flame query's start: HTML, scripts, hydration); the tRPC \`profile.flame\` request as the browser saw it (server
work plus transfer); drawing (response to the first frame painted on the graph's canvas); and query start
to paint, the number the targets are about. The hub prunes nodes narrower than one pixel
(\`minFraction\` = 1/${VIEWPORT.width}) before sending, as Parca does: "nodes" were sent, "pruned" were dropped
(their samples stay in the parent's total).

| shape | distinct stacks | navigation → paint | page load | flame query | draw | query start → paint | nodes sent | nodes pruned |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

${verdicts.join('\n')}

The flame query alone, from Node over HTTP (median of ${REPS}), with the pixel pruning and without any:

| shape | distinct stacks | samples | pruned: ms | nodes | KiB | unpruned: ms | nodes | KiB |
|---|---|---|---|---|---|---|---|---|
${serverRows.join('\n')}

Storing one window (SQLite transaction, blocks the hub's event loop), first with every stack and frame new,
then the median of three repeats of the same stacks:

| distinct stacks | first window ms | repeated window ms |
|---|---|---|
${store.map(([size, c]) => `| ${size / 1000}k | ${ms(c.first)} | ${ms(c.repeat)} |`).join('\n')}

Run: \`node --import tsx bench/flame-render.ts [--reps N] [--windows N]\` (needs \`npm run build -w @firesight/web\`).
`,
	);
} finally {
	await browser.close().catch(() => {});
	await hub.close();
	rmSync(dataDir, { recursive: true, force: true });
}
