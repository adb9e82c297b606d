/// <reference lib="dom" />
/**
 * Flame graph queries on a busy host, old path against new path, side by side in one run: the
 * hub's query time, the bytes it sends, navigation to first paint in headless Chromium, and the
 * time to zoom into a frame at full resolution, for whole-host ranges of 1 min, 15 min and 1 h.
 *
 * The data: an hour of 10 s windows of `busyHost()` (~165 samples/s over two CPUs, node, chromium,
 * nginx, openssl, curl, postgres and the kernel paths they take) stored in a real hub's SQLite
 * store through its own insert path.
 *
 * Old path: what the hub did before, computed in this process from the same store: merge the
 * range, build the whole flame tree and prune frames under a pixel into their parent, rank the
 * functions, serialize. In the browser its answer is served to the same page through a route, so
 * its query time is in the page's timings. Zooming had no query: a frame's subtree at full
 * resolution took a new whole-range query at a pixel of that frame, which is what is timed.
 * New path: the hub's `profile.flame` (level-by-level pruned tree, remainders, range cache) and
 * `profile.subtree`, cold (cache cleared) and warm.
 *
 * Usage: node --import tsx bench/flame-scale.ts [--reps N]   (needs the built dashboard)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { rangeCacheFor } from '@firesight/api';
import { findNode, toFlameTree, topFunctions, totalWeight, type FlameNode } from '@firesight/profile';
import { startHub } from '@firesight/web/server';
import { launchChromium } from '@firesight/e2e/browser';
import { busyHost } from './flame-busy-host.ts';
import { writeResultsSection } from './results-file.ts';
import { benchArgs, positiveNumber, wholeNumber } from './bench-args.ts';

const { values } = benchArgs({
	name: 'flame-scale',
	summary:
		"A busy host's whole-host flame graph over 1 min, 15 min and 1 h, old path against new: query time, bytes, first paint, zoom (needs the built dashboard).",
	writes: 'the "Flame graph queries on a busy host: old path and new path" section of bench/RESULTS.md',
	options: {
		reps: { check: wholeNumber(), placeholder: 'N', help: 'repeats of each measurement', default: '3' },
		minutes: { check: positiveNumber(), placeholder: 'N', help: "minutes of the busy host's windows stored", default: '60' },
	},
});
const REPS = values.reps;
const MINUTES = values.minutes;
const WINDOW_MS = 10_000;
/** Windows stored after the ranges' end, so a range can move forward as a live page's does. */
const MOVES = 2;
const VIEWPORT = { width: 1280, height: 900 };
const MIN_FRACTION = 1 / VIEWPORT.width;
const HOST = 'busy-1';
const RANGES = [
	{ label: '1 min', ms: 60_000 },
	{ label: '15 min', ms: 15 * 60_000 },
	{ label: '1 h', ms: 60 * 60_000 },
].filter((r) => r.ms <= MINUTES * 60_000);

const median = (xs: number[]) => {
	const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
	return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};
const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)}` : '–');
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)}`;
const ratio = (oldValue: number, newValue: number) =>
	newValue > 0 && Number.isFinite(oldValue) ? `×${(oldValue / newValue).toFixed(1)}` : '–';
const log = (line: string) => console.error(`flame-scale: ${line}`);

interface Timed {
	ms: number;
	bytes: number;
	nodes: number;
}

function countNodes(node: FlameNode): number {
	let n = 1;
	for (const c of node.children) n += countNodes(c);
	return n;
}

/**
 * Runs in the page before its scripts: when the flame graph is first drawn, and each drawing
 * after (a new SVG holding rects from d3, or a new paint of the canvas, which counts its paints
 * in `data-draws`).
 */
function pageProbe(): void {
	const w = window as unknown as { __flame: { painted: number; svgs: number[] } };
	w.__flame = { painted: -1, svgs: [] };
	let last: Element | null = null;
	let lastDraws = 0;
	const observer = new MutationObserver(() => {
		const canvas = document.querySelector<HTMLElement>('[data-testid="flame-graph"] [data-testid="flame-canvas"]');
		const draws = Number(canvas?.dataset.draws ?? 0);
		const svg = document.querySelector('[data-testid="flame-graph"] svg');
		if (canvas && draws > lastDraws) lastDraws = draws;
		else if (!svg || svg === last || !svg.querySelector('rect')) return;
		else last = svg;
		// The rAF callback runs before the frame is painted; a task queued from it runs after.
		requestAnimationFrame(() =>
			setTimeout(() => {
				const now = performance.now();
				if (w.__flame.painted < 0) w.__flame.painted = now;
				w.__flame.svgs.push(now);
			}, 0),
		);
	});
	observer.observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-draws'] });
}

/**
 * Where a frame of the canvas flame graph is, found as a user finds it: moving the pointer along
 * each row until the tooltip names it. Null when no row shows it.
 */
async function canvasFramePoint(page: Page, name: string): Promise<{ x: number; y: number } | null> {
	return page.evaluate((frame) => {
		const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="flame-graph"] [data-testid="flame-canvas"]');
		const tip = canvas?.closest('[data-testid="flame-graph"]')?.nextElementSibling as HTMLElement | null | undefined;
		const rows = Number(canvas?.dataset.rows);
		if (!canvas || !tip || !(rows > 0)) return null;
		const box = canvas.getBoundingClientRect();
		const cell = box.height / rows;
		// No named helper in here: the bundler would wrap it in a function the page does not have.
		let found: { x: number; y: number } | null = null;
		for (let row = 0; row < rows && !found; row++) {
			const y = box.top + row * cell + cell / 2;
			for (let x = box.left + 1; x < box.right && !found; x += 2) {
				canvas.dispatchEvent(new MouseEvent('mousemove', { clientX: x, clientY: y, bubbles: true, cancelable: true }));
				if (tip.style.display === 'block' && tip.querySelector('.tt-name')?.textContent === frame) found = { x, y };
			}
		}
		// Below the drawing: the tooltip goes away.
		canvas.dispatchEvent(new MouseEvent('mousemove', { clientX: box.left + 1, clientY: box.bottom + 2, bubbles: true, cancelable: true }));
		return found;
	}, name);
}

const loadStart = loadavg()[0]!;
const dataDir = mkdtempSync(join(tmpdir(), 'firesight-bench-flame-scale-'));
const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir, token: 'bench-token', log: () => {} });
const browser = await launchChromium();
try {
	const profiles = hub.storage.profiles;
	const cache = rangeCacheFor(profiles);
	const windows = (MINUTES * 60_000) / WINDOW_MS;
	const endMs = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 60_000;
	const startMs = endMs - windows * WINDOW_MS;
	const source = busyHost();
	const t0 = performance.now();
	// Straight into the hub's own store: a socket would time the generator against the hub's
	// heartbeat, and the ingest path is benchmarked elsewhere (store-ingest).
	for (let i = 0; i < windows + MOVES; i++) {
		await profiles.insertWindow(source.window(HOST, startMs + i * WINDOW_MS, WINDOW_MS, i));
		if (i % 60 === 59) log(`stored ${i + 1} of ${windows} windows`);
	}
	for (const deadline = Date.now() + 600_000; ;) {
		const stored = (await profiles.listHosts()).find((h) => h.host === HOST);
		if (stored?.windows === windows + MOVES) break;
		if (Date.now() % 10_000 < 200) log(`stored ${stored?.windows ?? 0} of ${windows} windows`);
		if (Date.now() > deadline) throw new Error(`the hub did not store ${windows} windows`);
		await new Promise((r) => setTimeout(r, 200));
	}
	log(`made and stored ${windows} windows in ${ms(performance.now() - t0)} ms`);

	/** The old procedure, as it was: merge, whole tree pruned into parents, ranked functions. */
	const oldFlame = async (fromMs: number, toMs: number, minFraction: number) => {
		const { profile, windows: n } = await profiles.query({ fromMs, toMs, host: HOST });
		const { root, pruned } = toFlameTree(profile, { minFraction });
		const rows = topFunctions(profile);
		return {
			fromMs,
			toMs,
			tree: root,
			nodes: countNodes(root),
			prunedNodes: pruned,
			minFraction,
			topFunctions: rows.slice(0, 500),
			functions: rows.length,
			totalSamples: totalWeight(profile),
			windows: n,
			frequencyHz: profile.frequencyHz,
		};
	};
	const timeOld = async (fromMs: number, toMs: number, minFraction: number): Promise<Timed> => {
		const t = performance.now();
		const result = await oldFlame(fromMs, toMs, minFraction);
		const text = JSON.stringify({ result: { data: result } });
		return { ms: performance.now() - t, bytes: text.length, nodes: result.nodes };
	};
	const timeNew = async (procedure: string, input: Record<string, unknown>): Promise<Timed & { data: Record<string, unknown> }> => {
		const t = performance.now();
		const res = await fetch(`${hub.url}/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`);
		const text = await res.text();
		const elapsed = performance.now() - t;
		if (!res.ok) throw new Error(`${procedure}: HTTP ${res.status}: ${text.slice(0, 300)}`);
		const data = (JSON.parse(text) as { result: { data: Record<string, unknown> } }).result.data;
		return { ms: elapsed, bytes: text.length, nodes: Number(data.nodes), data };
	};

	// In the browser, the old path answers profile.flame through a route; everything else (and
	// the whole new path, through the same route) goes to the hub.
	let mode: 'old' | 'new' = 'new';
	const context = await browser.newContext({ viewport: VIEWPORT });
	await context.addInitScript(pageProbe);
	await context.route('**/trpc/**', async (route) => {
		const url = new URL(route.request().url());
		const procedures = url.pathname.slice('/trpc/'.length).split(',');
		if (mode === 'new' || !procedures.includes('profile.flame')) return route.continue();
		type FlameInput = { fromMs: number; toMs: number; minFraction?: number };
		if (!url.searchParams.has('batch')) {
			// The page asks for the flame graph alone, outside any batch.
			const input = JSON.parse(url.searchParams.get('input') ?? '{}') as FlameInput;
			const data = await oldFlame(input.fromMs, input.toMs, input.minFraction ?? MIN_FRACTION);
			return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ result: { data } }) });
		}
		const inputs = JSON.parse(url.searchParams.get('input') ?? '{}') as Record<string, FlameInput>;
		const out: unknown[] = [];
		for (const [i, procedure] of procedures.entries()) {
			const input = inputs[String(i)]!;
			if (procedure === 'profile.flame') {
				out.push({ result: { data: await oldFlame(input.fromMs, input.toMs, input.minFraction ?? MIN_FRACTION) } });
			} else {
				const res = await fetch(`${hub.url}/trpc/${procedure}?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: input }))}`);
				out.push(((await res.json()) as unknown[])[0]);
			}
		}
		await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(out) });
	});

	interface PageRun {
		navToPaint: number;
		flameQuery: number;
		/** When the page sent the flame request, ms after navigation. */
		flameSent: number;
		zoom: number;
	}
	/** Navigation to first paint, then a click on the widest frame under the process and the time until its subtree is drawn. */
	const openPage = async (fromMs: number, toMs: number, zoomPath: string[]): Promise<PageRun> => {
		const page: Page = await context.newPage();
		try {
			await page.goto(`${hub.url}/profiles?host=${HOST}&from=${fromMs}&to=${toMs}&view=graph`);
			await page.waitForFunction(() => (window as unknown as { __flame: { painted: number } }).__flame.painted >= 0, null, {
				timeout: 120_000,
			});
			const first = await page.evaluate(() => {
				const q = performance.getEntriesByType('resource').find((e) => e.name.includes('profile.flame')) as
					PerformanceResourceTiming | undefined;
				return {
					painted: (window as unknown as { __flame: { painted: number } }).__flame.painted,
					query: q ? q.responseEnd - q.startTime : NaN,
					sent: q ? q.startTime : NaN,
				};
			});
			let zoom = NaN;
			if (mode === 'new') {
				const name = zoomPath[zoomPath.length - 1]!;
				const point = await canvasFramePoint(page, name);
				const svgsBefore = await page.evaluate(() => (window as unknown as { __flame: { svgs: number[] } }).__flame.svgs.length);
				const clickedAt = await page.evaluate(
					({ frame, at }) => {
						const target = at
							? document.elementFromPoint(at.x, at.y)
							: Array.from(document.querySelectorAll('[data-testid="flame-graph"] svg g')).find((el) => el.getAttribute('name') === frame);
						if (!target) return NaN;
						const now = performance.now();
						const where = at ? { clientX: at.x, clientY: at.y } : {};
						target.dispatchEvent(new MouseEvent('click', { bubbles: true, ...where }));
						return now;
					},
					{ frame: name, at: point },
				);
				if (Number.isFinite(clickedAt)) {
					// The first drawing after the subtree's answer: a canvas also redraws at once, zoomed into the pruned tree.
					const drawnAfterSubtree = (n: number) => {
						const answered = performance.getEntriesByType('resource').find((e) => e.name.includes('profile.subtree')) as
							PerformanceResourceTiming | undefined;
						const drawn = (window as unknown as { __flame: { svgs: number[] } }).__flame.svgs.slice(n);
						return answered && answered.responseEnd > 0 ? (drawn.find((t) => t >= answered.responseEnd) ?? null) : null;
					};
					await page.waitForFunction(drawnAfterSubtree, svgsBefore, { timeout: 60_000 });
					zoom = (await page.evaluate(drawnAfterSubtree, svgsBefore))! - clickedAt;
				}
			}
			return { navToPaint: first.painted, flameQuery: first.query, flameSent: first.sent, zoom };
		} finally {
			await page.close();
		}
	};

	// Warm-up: the first loads compile the page's scripts and fill the HTTP cache.
	{
		const from = endMs - 60_000;
		await openPage(from, endMs, ['x']);
		await openPage(from, endMs, ['x']);
	}

	const apiRows: string[] = [];
	const pageRows: string[] = [];
	const zoomRows: string[] = [];
	const verdicts: string[] = [];
	for (const range of RANGES) {
		try {
			const fromMs = endMs - range.ms;
			// The frame to zoom into: the widest under the widest process, two levels down.
			const whole = (await timeNew('profile.flame', { fromMs, toMs: endMs, host: HOST, minFraction: MIN_FRACTION })).data as unknown as {
				tree: FlameNode;
				totalSamples: number;
			};
			const widest = (n: FlameNode) => [...n.children].filter((c) => c.hidden === undefined).sort((a, b) => b.value - a.value)[0]!;
			const p1 = widest(whole.tree);
			const p2 = widest(p1);
			const p3 = widest(p2);
			const zoomPath = [p1.name, p2.name, p3.name];
			const zoomShare = (findNode(whole.tree, zoomPath)?.value ?? 0) / whole.totalSamples;

			const oldApi: Timed[] = [];
			const coldApi: Timed[] = [];
			const warmApi: Timed[] = [];
			const movedApi: Timed[][] = Array.from({ length: MOVES }, () => []);
			const oldPage: PageRun[] = [];
			const coldPage: PageRun[] = [];
			const warmPage: PageRun[] = [];
			const oldZoom: Timed[] = [];
			const newZoom: Timed[] = [];
			let samples = 0;
			let subtreeNodes = 0;
			for (let rep = 0; rep < REPS; rep++) {
				// Interleaved, so each path sees the same machine load.
				oldApi.push(await timeOld(fromMs, endMs, MIN_FRACTION));
				cache.clear();
				const cold = await timeNew('profile.flame', { fromMs, toMs: endMs, host: HOST, minFraction: MIN_FRACTION });
				coldApi.push(cold);
				samples = Number(cold.data.totalSamples);
				warmApi.push(await timeNew('profile.flame', { fromMs, toMs: endMs, host: HOST, minFraction: MIN_FRACTION }));
				// A live page's next queries: the range one window later, then another (the cached merge extended).
				for (let k = 1; k <= MOVES; k++) {
					const shift = k * WINDOW_MS;
					const moved = { fromMs: fromMs + shift, toMs: endMs + shift, host: HOST, minFraction: MIN_FRACTION };
					movedApi[k - 1]!.push(await timeNew('profile.flame', moved));
				}
				oldZoom.push(await timeOld(fromMs, endMs, MIN_FRACTION * zoomShare));
				const sub = await timeNew('profile.subtree', { fromMs, toMs: endMs, host: HOST, path: zoomPath, minFraction: MIN_FRACTION });
				subtreeNodes = sub.nodes;
				newZoom.push(sub);

				mode = 'old';
				oldPage.push(await openPage(fromMs, endMs, zoomPath));
				mode = 'new';
				cache.clear();
				coldPage.push(await openPage(fromMs, endMs, zoomPath));
				warmPage.push(await openPage(fromMs, endMs, zoomPath));
				log(
					`${range.label} rep ${rep + 1}: api old ${ms(oldApi.at(-1)!.ms)} new cold ${ms(cold.ms)} warm ${ms(warmApi.at(-1)!.ms)}; paint old ${ms(oldPage.at(-1)!.navToPaint)} new cold ${ms(coldPage.at(-1)!.navToPaint)} (flame sent at ${ms(coldPage.at(-1)!.flameSent)}) warm ${ms(warmPage.at(-1)!.navToPaint)}`,
				);
			}
			const m = (xs: { ms: number }[]) => median(xs.map((x) => x.ms));
			const nav = (xs: PageRun[]) => median(xs.map((x) => x.navToPaint));
			apiRows.push(
				`| ${range.label} | ${samples} | ${ms(m(oldApi))} | ${ms(m(coldApi))} | ${ms(m(warmApi))} | ${movedApi.map((xs) => ms(m(xs))).join(' | ')} | **${ratio(m(oldApi), m(coldApi))}** | ${kib(oldApi[0]!.bytes)} | ${kib(coldApi[0]!.bytes)} | ${oldApi[0]!.nodes} | ${coldApi[0]!.nodes} |`,
			);
			pageRows.push(
				`| ${range.label} | ${ms(nav(oldPage))} | ${ms(median(oldPage.map((p) => p.flameQuery)))} | ${ms(nav(coldPage))} | ${ms(median(coldPage.map((p) => p.flameQuery)))} | ${ms(nav(warmPage))} | **${ratio(nav(oldPage), nav(coldPage))}** |`,
			);
			zoomRows.push(
				`| ${range.label} | \`${zoomPath.join(' → ').slice(0, 80)}\` (${(100 * zoomShare).toFixed(1)}%) | ${ms(m(oldZoom))} | ${ms(m(newZoom))} | **${ratio(m(oldZoom), m(newZoom))}** | ${subtreeNodes} | ${ms(median(coldPage.map((p) => p.zoom)))} | ${ms(median(warmPage.map((p) => p.zoom)))} |`,
			);
			if (range.label === '15 min') {
				const api = m(coldApi);
				const paint = nav(coldPage);
				verdicts.push(
					`15 min whole host, cold cache: API ${ms(api)} ms against 1000 ms (${api < 1000 ? 'met' : 'missed'}); navigation to first paint ${ms(paint)} ms against 2000 ms (${paint < 2000 ? 'met' : 'missed'}).`,
				);
			}
		} catch (err) {
			// One range failing (the hub's 30 s API budget on an overloaded machine) still reports the others.
			const why = String((err as Error).message ?? err)
				.split('\n')[0]!
				.slice(0, 120);
			log(`${range.label}: ${why}`);
			apiRows.push(`| ${range.label} | – | failed: ${why} | | | | | | | | | |`);
			pageRows.push(`| ${range.label} | failed | | | | | |`);
			zoomRows.push(`| ${range.label} | failed | | | | | | |`);
		}
	}
	await context.close();
	log('done');
	const when = new Date().toISOString().slice(0, 10);
	writeResultsSection(
		'Flame graph queries on a busy host: old path and new path',
		`
A real hub (SQLite, the built dashboard) holding ${MINUTES} minutes of 10 s windows of a busy 2-CPU host
(\`bench/flame-busy-host.ts\`: ~165 samples/s across node, chromium, nginx, openssl, curl, postgres and the
kernel; a quarter hour is ~150k samples, ~110k distinct stacks and ~1M flame tree nodes), stored through
the hub's own store. Whole-host ranges ending at the newest window; the page is Debian's headless Chromium at
${VIEWPORT.width}x${VIEWPORT.height}, asking for a pixel (\`minFraction\` 1/${VIEWPORT.width}). Median of ${REPS}, old and new interleaved in
one run; ${when}, 2 shared CPUs, 1-minute load average ${loadStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end
(other work shares this machine: compare the columns of one row, not runs).

*Old path*: the procedure as it was (merge; the whole tree; frames under a pixel merged into their parent;
top functions), run in the hub's process on the same store, and in the browser served to the same page
through a route. *New path*: \`profile.flame\` (the visible tree built level by level, one remainder node per
parent, at most 20k nodes; top functions from every sample), *cold* with the range cache cleared and *warm*
on a repeat. *Moved*: then the range one window later and another window later, as a live page asks
every 10 s: the cached merge is extended by the window that entered and the one that left, not
merged again (the tree and the table are still built afresh). Ratios are old ÷ new cold.

Hub query, ms, and what it sends:

| range | samples | old ms | new cold ms | new warm ms | moved 1 window ms | moved again ms | speed-up | old KiB | new KiB | old nodes | new nodes |
|---|---|---|---|---|---|---|---|---|---|---|---|
${apiRows.join('\n')}

Navigation to the first painted flame graph, ms (and the flame request as the page saw it):

| range | old: nav → paint | old: flame request | new cold: nav → paint | new cold: flame request | new warm: nav → paint | speed-up |
|---|---|---|---|---|---|---|
${pageRows.join('\n')}

${verdicts.join('\n')}

Zoom to a frame's subtree at full resolution (a pixel of the frame), ms. Old: the graph only zoomed its
pruned tree, so the frame's narrow callees stayed merged; seeing them took a whole-range query at a
pixel of the frame, timed here. New: \`profile.subtree\` on the cached merge, and in the page, click to
the grafted subtree drawn (after a cold and after a warm navigation):

| range | frame (share) | old: re-query ms | new: subtree ms | speed-up | subtree nodes | page: click → drawn (cold) | (warm) |
|---|---|---|---|---|---|---|---|
${zoomRows.join('\n')}

Run: \`node --import tsx bench/flame-scale.ts [--reps N] [--minutes 60]\` (needs \`npm run build -w @firesight/web\`).
`,
	);
} finally {
	await browser.close().catch(() => {});
	await hub.close();
	rmSync(dataDir, { recursive: true, force: true });
}
