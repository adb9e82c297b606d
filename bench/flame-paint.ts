/// <reference lib="dom" />
/**
 * Paint time of the hub's bounded flame tree in headless Chromium: the dashboard's canvas
 * renderer against d3-flame-graph's SVG, on the same trees, in the same page, in one run.
 *
 * The trees are what the hub sends for a busy host's quarter hour (`flame-busy-host.ts`): the
 * whole range at the page's pixel threshold, and the same range at full resolution, which the
 * hub caps at MAX_FLAME_NODES nodes (a zoomed subtree is at most that too). Each render starts
 * from an empty container and ends when the main thread is free after a painted frame, so layout,
 * DOM or canvas work, style and paint all count. The canvas side is the dashboard's own layout,
 * fills and painter, bundled for the page.
 *
 * Usage: node --import tsx bench/flame-paint.ts [--reps N] [--minutes N]
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { filterProfile, prunedFlameTree, ProfileBuilder, type FlameNode } from '@firesight/profile';
import { launchChromium } from '@firesight/e2e/browser';
import { busyHost } from './flame-busy-host.ts';
import { median, ms } from './paint-timing.ts';
import { writeResultsSection } from './results-file.ts';
import { benchArgs, positiveNumber, wholeNumber } from './bench-args.ts';

const { values } = benchArgs({
	name: 'flame-paint',
	summary: "Paint time of the hub's bounded flame tree in headless Chromium: the dashboard's canvas against d3-flame-graph's SVG.",
	writes: 'the "Flame graph paint: canvas against d3-flame-graph" section of bench/RESULTS.md',
	options: {
		reps: { check: wholeNumber(), placeholder: 'N', help: 'renders of each tree by each renderer', default: '7' },
		minutes: { check: positiveNumber(), placeholder: 'N', help: "minutes of the busy host's profile in the trees", default: '15' },
	},
});
const REPS = values.reps;
const MINUTES = values.minutes;
const WINDOW_MS = 10_000;
const VIEWPORT = { width: 1280, height: 900 };
/** The graph's width on the Profiles page's graph view at this viewport (the panel's padding off). */
const GRAPH_WIDTH = 1232;
/** The hub's cap on the nodes of a flame tree it sends (MAX_FLAME_NODES in packages/api). */
const MAX_FLAME_NODES = 20_000;
const log = (line: string) => console.error(`flame-paint: ${line}`);

/** A quarter hour of the busy host, merged as the hub merges its windows. */
function busyProfile() {
	const source = busyHost();
	const windows = (MINUTES * 60_000) / WINDOW_MS;
	const startMs = 1_700_000_000_000;
	const builder = new ProfileBuilder({ startMs, durationMs: windows * WINDOW_MS, frequencyHz: 99 });
	for (let i = 0; i < windows; i++) {
		const w = source.window('busy-1', startMs + i * WINDOW_MS, WINDOW_MS, i);
		for (const s of w.samples)
			builder.appendSample(
				s.stack.map((id) => w.frames[id]!),
				s.weight,
				{ pid: s.pid, comm: s.comm },
			);
	}
	return builder.build();
}

/** The dashboard's canvas path, as one script for the page: layout, fills, paint. */
async function canvasBundle(): Promise<string> {
	const result = await build({
		stdin: {
			contents: `
				import { layoutFlame } from '@firesight/web/flame-layout';
				import { flameFills } from '@firesight/web/flame-fills';
				import { DEFAULT_PAINT_STYLE, flameHeight, paintFlame } from '@firesight/web/flame-paint';
				window.canvasFlame = (container, root, width) => {
					const layout = layoutFlame(root, { width, minWidth: 1 });
					const { fills } = flameFills(layout, { search: '', colorMode: 'kind' });
					const height = flameHeight(layout, DEFAULT_PAINT_STYLE.cellHeight);
					const canvas = document.createElement('canvas');
					const dpr = window.devicePixelRatio || 1;
					canvas.width = Math.round(width * dpr);
					canvas.height = Math.round(height * dpr);
					canvas.style.width = width + 'px';
					canvas.style.height = height + 'px';
					container.appendChild(canvas);
					const ctx = canvas.getContext('2d');
					ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
					paintFlame(ctx, layout, (_, i) => fills[i], DEFAULT_PAINT_STYLE);
					return layout.rects.length;
				};`,
			resolveDir: dirname(fileURLToPath(import.meta.url)),
			loader: 'ts',
		},
		bundle: true,
		format: 'iife',
		// @firesight/profile's index also exports its Node-only importers, which the page never calls.
		plugins: [
			{
				name: 'no-node-builtins',
				setup(b) {
					b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-stub' }));
					b.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
				},
			},
		],
		write: false,
		platform: 'browser',
	});
	return result.outputFiles[0]!.text;
}

/** d3 and d3-flame-graph's browser builds, as installed for the dashboard. */
function d3Scripts(): string[] {
	const require = createRequire(import.meta.url);
	const find = (pkg: string, file: string) => {
		for (const dir of require.resolve.paths(pkg) ?? []) {
			const path = join(dir, pkg, file);
			if (existsSync(path)) return path;
		}
		throw new Error(`${pkg}/${file} is not installed`);
	};
	return [
		readFileSync(find('d3', 'dist/d3.min.js'), 'utf8'),
		readFileSync(find('d3-flame-graph', 'dist/d3-flamegraph.umd.min.js'), 'utf8'),
	];
}

const loadStart = loadavg()[0]!;
const profile = busyProfile();
const full = { minFraction: 0, maxNodes: MAX_FLAME_NODES };
const trees: { label: string; root: FlameNode; nodes: number }[] = [
	{
		label: `whole range, frames under a pixel merged (1/${VIEWPORT.width})`,
		tree: prunedFlameTree(profile, { minFraction: 1 / VIEWPORT.width }),
	},
	{ label: `whole range at full resolution, cut at ${MAX_FLAME_NODES.toLocaleString('en')} frames`, tree: prunedFlameTree(profile, full) },
	// What zooming into the widest process draws: its subtree at full resolution, across the width.
	{
		label: 'zoomed into `node` (its subtree at full resolution)',
		tree: prunedFlameTree(filterProfile(profile, { comms: ['node'] }), full),
	},
].map(({ label, tree }) => ({ label, root: tree.root, nodes: tree.nodes }));
log(`trees: ${trees.map((t) => t.nodes).join(', ')} nodes`);

const browser = await launchChromium();
const rows: string[] = [];
const ratios: number[] = [];
try {
	const page = await browser.newPage({ viewport: VIEWPORT });
	await page.setContent('<!doctype html><body style="margin:0;background:#121316"><div id="graph"></div></body>');
	for (const script of d3Scripts()) await page.addScriptTag({ content: script });
	await page.addScriptTag({ content: await canvasBundle() });

	// Handed over once, as JSON: a tree of 20k nested objects as an argument to every render is slow to pass.
	for (const tree of trees)
		await page.evaluate((json) => {
			const w = window as unknown as { trees?: unknown[] };
			(w.trees ??= []).push(JSON.parse(json));
		}, JSON.stringify(tree.root));

	for (const [index, tree] of trees.entries()) {
		const time = (renderer: 'canvas' | 'd3') =>
			page.evaluate(
				async ({ renderer, index, width }) => {
					const w = window as unknown as {
						trees: unknown[];
						canvasFlame(container: HTMLElement, root: unknown, width: number): number;
						flamegraph: { default: () => Record<string, (v: unknown) => unknown> };
						d3: { select(el: Element): { datum(d: unknown): { call(chart: unknown): void } } };
					};
					const root = w.trees[index];
					const old = document.getElementById('graph')!;
					const container = document.createElement('div');
					old.replaceWith(container);
					container.id = 'graph';
					// A painted frame, then a free main thread (no named functions here: the page has no
					// __name, which tsx adds to named functions).
					await new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
					const t0 = performance.now();
					let drawn: number;
					if (renderer === 'canvas') {
						drawn = w.canvasFlame(container, root, width);
					} else {
						// As the dashboard configured it before the canvas, transitions off (its best case).
						const chart = w.flamegraph.default();
						for (const [key, value] of Object.entries({
							width,
							cellHeight: 18,
							minFrameSize: 1,
							transitionDuration: 0,
							sort: false,
							selfValue: false,
						}))
							chart[key]!(value);
						w.d3.select(container).datum(structuredClone(root)).call(chart);
						drawn = container.querySelectorAll('g.frame').length;
					}
					// Layout and paint of what was built, then anything the renderer queued for the next frame.
					for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
					return { ms: performance.now() - t0, drawn };
				},
				{ renderer, index, width: GRAPH_WIDTH },
			);
		// Warm-up: compile both paths.
		await time('canvas');
		await time('d3');
		const canvas: number[] = [];
		const d3: number[] = [];
		let drawn = { canvas: 0, d3: 0 };
		// Interleaved, so both see the same machine load.
		for (let rep = 0; rep < REPS; rep++) {
			const c = await time('canvas');
			const d = await time('d3');
			canvas.push(c.ms);
			d3.push(d.ms);
			drawn = { canvas: c.drawn, d3: d.drawn };
		}
		const ratio = median(d3) / median(canvas);
		ratios.push(ratio);
		rows.push(
			`| ${tree.label} | ${tree.nodes.toLocaleString('en')} | ${drawn.canvas.toLocaleString('en')} / ${drawn.d3.toLocaleString('en')} | ${ms(median(canvas))} | ${ms(median(d3))} | **×${ratio.toFixed(1)}** |`,
		);
		log(`${tree.label}: canvas ${ms(median(canvas))} ms, d3 ${ms(median(d3))} ms (×${ratio.toFixed(1)})`);
	}
} finally {
	await browser.close().catch(() => {});
}

const when = new Date().toISOString().slice(0, 10);
writeResultsSection(
	'Flame graph paint: canvas against d3-flame-graph',
	`
The same flame trees painted in headless Chromium (Debian's, ${VIEWPORT.width}x${VIEWPORT.height}, a graph ${GRAPH_WIDTH} px wide)
by the dashboard's canvas renderer (\`apps/web/lib/flame-layout.ts\`, \`flame-fills.ts\`, \`flame-paint.ts\`) and by
d3-flame-graph 5 as the dashboard configured it before (transitions off, its best case). The trees are what the hub sends
for ${MINUTES} minutes of the busy host (\`bench/flame-busy-host.ts\`, ${profile.samples.length.toLocaleString('en')} distinct stacks):
the whole range at the page's pixel threshold; at full resolution, where the hub stops at MAX_FLAME_NODES frames (nodes
sent count the remainders too); and the widest process alone at full resolution, which is what zooming into it draws. Each render starts from an empty container and ends once a frame has been painted and the main
thread is free again. Median of ${REPS} interleaved renders after a warm-up; ${when}, 2 shared CPUs, 1-minute load average
${loadStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end.

| tree | nodes sent | drawn, canvas / d3 (frames a pixel wide or more) | canvas ms | d3-flame-graph ms | d3 / canvas |
|---|---|---|---|---|---|
${rows.join('\n')}

Run: \`npx tsx bench/flame-paint.ts [--reps N] [--minutes N]\`.
`,
);
