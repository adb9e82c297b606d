/// <reference lib="dom" />
/**
 * Time from opening a share link to the first painted flame graph, for shares of 10k and 100k
 * distinct stacks, and from opening the link of a diff of two 100k-stack shares to its first
 * paint; each side by side with the live Profiles page on the same stored windows, in the same run.
 *
 * The windows go into a real hub's SQLite store; shares are made through tRPC `shares.create` as
 * the Share button does. Paint is measured as in flame-render.ts: a MutationObserver installed
 * before any page script notes the flame graph's first canvas draw, and a frame later counts as
 * painted, on the page's own clock from navigation start.
 *
 * Usage: node --import tsx bench/share-render.ts [--reps N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, ProfileWindow } from '@firesight/protocol';
import { startHub } from '@firesight/web/server';
import { launchChromium } from '@firesight/e2e/browser';
import { median, ms, pageProbe, timePaint } from './paint-timing.ts';
import { writeResultsSection } from './results-file.ts';
import { benchArgs, wholeNumber } from './bench-args.ts';

const { values } = benchArgs({
	name: 'share-render',
	summary: 'From opening a share link (10k and 100k stacks, and a diff) to its first painted flame graph, beside the live Profiles page.',
	writes: 'the "Share and diff links: first paint" section of bench/RESULTS.md',
	options: {
		reps: { check: wholeNumber(), placeholder: 'N', help: 'page loads of each case', default: '5' },
	},
});
const REPS = values.reps;
const VIEWPORT = { width: 1280, height: 900 };
const WINDOW_MS = 10_000;
const WINDOWS = 3;

const log = (line: string) => console.error(`share-render: ${line}`);

/**
 * `size` leaves of a ten-way tree, one stack per leaf (flame-render.ts's *tree* shape, so about a
 * thousand nodes survive the pixel pruning). `skew` weights the first tenth of the leaves, so a
 * diff of two skews has a real regression to paint.
 */
function treeWindow(host: string, startMs: number, size: number, skew: number): ProfileWindow {
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
		samples.push({ pid: 6000, comm: 'tree', stack, weight: i < size / 10 ? skew : 1 });
	}
	return { host, startMs, durationMs: WINDOW_MS, frequencyHz: 99, frames, samples };
}

const loadStart = loadavg()[0]!;
const dataDir = mkdtempSync(join(tmpdir(), 'firesight-bench-share-'));
const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir, token: 'bench-token', log: () => {} });
const browser = await launchChromium();
try {
	const base = Date.now() - 60 * 60_000;
	const range = { fromMs: base - 1, toMs: base + WINDOWS * WINDOW_MS + 1 };
	const cases = [
		{ host: 'tree-10k', size: 10_000, skew: 1 },
		{ host: 'tree-100k', size: 100_000, skew: 1 },
		{ host: 'tree-100k-after', size: 100_000, skew: 3 },
		// A second share of the same windows, read only once: the first read of a share nobody opened.
		{ host: 'tree-100k', size: 0, skew: 1, key: 'tree-100k-unread' },
	];
	const shares = new Map<string, string>();
	for (const c of cases) {
		for (let i = 0; i < (c.size > 0 ? WINDOWS : 0); i++) {
			await hub.storage.profiles.insertWindow(treeWindow(c.host, base + i * WINDOW_MS, c.size, c.skew));
		}
		const create = () =>
			fetch(`${hub.url}/trpc/shares.create`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ ...range, host: c.host }),
			});
		// Storing 100k-stack windows blocks the hub for seconds, past its keep-alive timeout: the
		// pooled connection may be closed under the request, which then goes again on a new one.
		const res = await create().catch(create);
		if (!res.ok) throw new Error(`shares.create: HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
		shares.set(c.key ?? c.host, ((await res.json()) as { result: { data: { id: string } } }).result.data.id);
		log(`stored and shared ${c.key ?? c.host}`);
	}

	// The hub's part alone, from Node over HTTP: what each page's first query costs the server.
	const input = (value: unknown) => encodeURIComponent(JSON.stringify(value));
	const minFraction = 1 / VIEWPORT.width;
	const queries = [
		{
			what: 'profile.flame, 100k stacks (live page)',
			path: `/trpc/profile.flame?input=${input({ ...range, host: 'tree-100k', minFraction })}`,
		},
		{
			what: 'shares.flame, 100k stacks (share link)',
			path: `/trpc/shares.flame?input=${input({ id: shares.get('tree-100k'), minFraction })}`,
		},
		{
			what: 'diff.shares, two 100k-stack shares (diff link)',
			path: `/trpc/diff.shares?input=${input({ baseline: { share: shares.get('tree-100k') }, comparison: { share: shares.get('tree-100k-after') }, minFraction })}`,
		},
	];
	// The first reads: the diff's two shares are read for the first time by the diff, the share
	// link's by its own query (a second share of the same windows, so the diff decoded neither).
	const firstRead = [
		queries[0]!,
		{ ...queries[1]!, path: `/trpc/shares.flame?input=${input({ id: shares.get('tree-100k-unread'), minFraction })}` },
		queries[2]!,
	];
	const timeQuery = async (q: { what: string; path: string }): Promise<number> => {
		const t0 = performance.now();
		const res = await fetch(`${hub.url}${q.path}`);
		const text = await res.text();
		if (!res.ok) throw new Error(`${q.what}: HTTP ${res.status}: ${text.slice(0, 300)}`);
		return performance.now() - t0;
	};
	// The first read of each, before any page: a share nobody opened yet (nothing cached).
	const firstReads = new Map<string, number>();
	for (const q of firstRead) firstReads.set(q.what, await timeQuery(q));

	const context = await browser.newContext({ viewport: VIEWPORT });
	await context.addInitScript(pageProbe);
	const paint = async (path: string): Promise<number> => (await timePaint(context, `${hub.url}${path}`, 'flame')).painted;
	const live = (host: string) => `/profiles?host=${host}&from=${range.fromMs}&to=${range.toMs}&view=graph`;
	const diffPath = `/s/${shares.get('tree-100k')}/diff/${shares.get('tree-100k-after')}`;
	const pairs = [
		{ what: 'share link, 10k stacks', path: `/s/${shares.get('tree-10k')}?view=graph`, live: live('tree-10k') },
		{ what: 'share link, 100k stacks', path: `/s/${shares.get('tree-100k')}?view=graph`, live: live('tree-100k') },
		{ what: 'diff link, two 100k-stack shares', path: diffPath, live: live('tree-100k') },
	];
	// Warm-up: the first loads compile each page's scripts and fill the HTTP cache.
	for (const p of pairs) {
		await paint(p.path);
		await paint(p.live);
	}
	const rows: string[] = [];
	for (const p of pairs) {
		const opened: number[] = [];
		const liveTimes: number[] = [];
		// Interleaved, so both see the same machine load.
		for (let rep = 0; rep < REPS; rep++) {
			opened.push(await paint(p.path));
			liveTimes.push(await paint(p.live));
		}
		const a = median(opened);
		const b = median(liveTimes);
		rows.push(`| ${p.what} | ${ms(a)} | ${ms(b)} | ${(a / b).toFixed(2)}x | ${a <= 1000 ? 'met' : 'missed'} |`);
		log(`${p.what}: ${ms(a)} ms against the live page's ${ms(b)} ms`);
	}
	await context.close();

	const serverRows: string[] = [];
	for (const q of queries) {
		const times: number[] = [];
		for (let rep = 0; rep < REPS; rep++) times.push(await timeQuery(q));
		serverRows.push(`| ${q.what} | ${ms(firstReads.get(q.what)!)} | ${ms(median(times))} |`);
		log(`${q.what}: first ${ms(firstReads.get(q.what)!)} ms, then ${ms(median(times))} ms`);
	}
	writeResultsSection(
		'Share and diff links: first paint',
		`
Headless Chromium (Debian's, ${VIEWPORT.width}x${VIEWPORT.height}) opening a share link (\`/s/<id>\`, graph view), and the link of a
diff of two shares (\`/s/<a>/diff/<b>\`), against the live Profiles page on the same stored windows (${WINDOWS} windows of
${WINDOW_MS / 1000} s, flame-render.ts's *tree* shape: N distinct stacks, about a thousand nodes wider than a pixel).
The diff compares two 100k-stack profiles (the comparison weighs a tenth of the leaves three times); its live column is the
Profiles page of the baseline's windows. Navigation to the first painted flame graph, ms, median of ${REPS} interleaved loads
after a warm-up; ratio = link / live page. Target: under 1 s. ${new Date().toISOString().slice(0, 10)}, 2 shared CPUs, 1-minute load
average ${loadStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end.

| what | link → paint ms | live Profiles page → paint ms | ratio | under 1 s |
|---|---|---|---|---|
${rows.join('\n')}

With a load average above the CPU count the milliseconds stretch with everything else on the machine; the
ratios, measured interleaved, are the comparison. The hub's part alone, the page's first query from Node over
HTTP, ms: its first read, before any page opened the share (the share's page checks the share by its summary;
the flame query decodes the stored snapshot once), and the median of ${REPS} later reads (a share never changes,
so its decoded profile, drawn graph per width and a diff of two shares stay in the hub's bounded cache). The
live page's merge has its own range cache, filled here by the warm-up.

| query | first read | later reads |
|---|---|---|
${serverRows.join('\n')}

Run: \`node --import tsx bench/share-render.ts [--reps N]\` (needs \`npm run build -w @firesight/web\`).
`,
	);
} finally {
	await browser.close().catch(() => {});
	await hub.close();
	rmSync(dataDir, { recursive: true, force: true });
}
