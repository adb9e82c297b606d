/**
 * The Profiles page on a real profile (`firesight up` with real BPF, a kernel-heavy `dd`, a busy
 * Node and a shell walking the file system): frames too narrow to draw are merged by the hub into
 * grey remainder nodes, and still the top functions table, the search share and the graph agree
 * on every function; zooming into a frame asks the hub for that subtree at full resolution, and
 * the search share is then relative to the zoomed frame. Needs root and BPF; it skips without
 * them unless FIRESIGHT_REQUIRE_BPF=1.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page, Response } from 'playwright-core';
import { bpfSkip } from '@firesight/testing/bpf-test-gate';
import { launchChromium } from './browser.ts';
import { clickFrame, drawnFrames, frameColor, isColor, MATCH_COLOR, paintedFlame } from './flame-frames.ts';
import { freePort, hostsList, screenshot, startUpHealthy, waitFor, type UpProcess } from './support.ts';

const skip = bpfSkip();

let workDir: string;
let port: number;
let up: UpProcess | undefined;
let browser: Browser | undefined;
let page: Page;
const workloads: ChildProcess[] = [];
const base = () => `http://127.0.0.1:${port}`;

interface TreeNode {
	name: string;
	value: number;
	hidden?: number;
	children: TreeNode[];
}
interface FunctionRow {
	name: string;
	total: number;
}
interface Flame {
	tree: TreeNode;
	topFunctions: FunctionRow[];
	/** Distinct functions, before the table's row limit. */
	functions: number;
	totalSamples: number;
	hiddenNodes: number;
}

/** Samples under drawn frames named `name`, each sample once (a match inside a match is not added). */
function drawnSum(node: TreeNode, name: string): number {
	if (node.hidden === undefined && node.name === name) return node.value;
	return node.children.reduce((sum, child) => sum + drawnSum(child, name), 0);
}

/** The answer to `procedure` in a tRPC response, alone or in a batch (whose path lists the batch's procedures). */
async function batchAnswer<T>(response: Pick<Response, 'url' | 'json'>, procedure: string): Promise<T> {
	const url = new URL(response.url());
	if (!url.searchParams.has('batch')) return ((await response.json()) as { result: { data: T } }).result.data;
	const procedures = url.pathname.replace(/^\/trpc\//, '').split(',');
	const body = (await response.json()) as { result: { data: T } }[];
	return body[procedures.indexOf(procedure)]!.result.data;
}

/** The page's own profile.flame answer, and the request that got it. */
async function flameResponse(load: () => Promise<unknown>): Promise<{ flame: Flame; response: Response }> {
	// The browser's deadline: a whole-host flame query is slow on a loaded machine.
	const [response] = await Promise.all([page.waitForResponse((r) => r.url().includes('profile.flame')), load()]);
	return { flame: await batchAnswer<Flame>(response, 'profile.flame'), response };
}

async function flameAnswer(load: () => Promise<unknown>): Promise<Flame> {
	return (await flameResponse(load)).flame;
}

/**
 * The names the search could match in the profile `response` answered: all its functions (the
 * page asks for the table's top 500 only), and its drawn nodes, processes included.
 */
async function searchableNames(response: Response, flame: Flame): Promise<{ functions: string[]; drawn: string[] }> {
	const url = new URL(response.url());
	const input = JSON.parse(url.searchParams.get('input') ?? '{}') as Record<string, unknown>;
	if (url.searchParams.has('batch')) {
		const index = String(
			url.pathname
				.replace(/^\/trpc\//, '')
				.split(',')
				.indexOf('profile.flame'),
		);
		input[index] = { ...(input[index] as object), topLimit: 10_000 };
	} else input.topLimit = 10_000;
	url.searchParams.set('input', JSON.stringify(input));
	const all = await page.request.get(url.toString(), { timeout: 120_000 });
	assert.equal(all.status(), 200, 'every function of the range');
	const answer = await batchAnswer<Flame>(all, 'profile.flame');
	assert.equal(answer.topFunctions.length, answer.functions, 'the answer lists every function');
	const drawn: string[] = [];
	const collect = (node: TreeNode) => {
		if (node.hidden === undefined) drawn.push(node.name.toLowerCase());
		node.children.forEach(collect);
	};
	flame.tree.children.forEach(collect);
	return { functions: answer.topFunctions.map((r) => r.name.toLowerCase()), drawn };
}

before(async () => {
	if (skip) return;
	workDir = mkdtempSync(join(tmpdir(), 'firesight-e2e-'));
	port = await freePort();
	workloads.push(spawn('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=64k'], { stdio: 'ignore' }));
	workloads.push(spawn(process.execPath, ['-e', 'let x = 0; for (;;) { x = (x + Math.sqrt(x + 1)) % 1e9; }'], { stdio: 'ignore' }));
	// Many short processes and file-system paths: a long tail of narrow stacks.
	workloads.push(spawn('sh', ['-c', 'while :; do ls -lR /usr/lib > /dev/null 2>&1; done'], { stdio: 'ignore' }));
	up = await startUpHealthy(port, join(workDir, 'data'));
	browser = await launchChromium();
	page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
});

after(async () => {
	await browser?.close();
	for (const child of workloads) child.kill('SIGKILL');
	await up?.stop();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/**
 * A range end whose windows are all stored: the end of what the hub holds (a window is in a range
 * when it starts before its end), so a window stored later is in no range the test reads.
 */
async function settled(): Promise<number> {
	return Math.max(0, ...(await hostsList(base())).map((h) => h.lastMs ?? 0));
}

test('the table, the search share and the graph agree, with what is too narrow to draw in grey remainders', { skip }, async () => {
	// A fixed range once enough is stored, so every number below is of the same data.
	const start = Date.now() - 60_000;
	let url = '';
	// Ending before the windows still open: one stored between two of the page's queries would
	// change the numbers under the test.
	const { flame, row } = await waitFor(
		'a function with samples both drawn and in remainders',
		async () => {
			url = `${base()}/profiles?from=${start}&to=${await settled()}&view=both`;
			const { flame: answer, response } = await flameResponse(() => page.goto(url));
			if (answer.hiddenNodes === 0) return null;
			// Its name must be part of no other name the search sees (another function's, beyond the
			// table's 500 rows too, or a process's), so the search finds it alone.
			const names = await searchableNames(response, answer);
			const split = answer.topFunctions.find((r) => {
				const drawn = drawnSum(answer.tree, r.name);
				const lower = r.name.toLowerCase();
				return (
					drawn > 0 &&
					drawn < r.total &&
					r.name.length >= 6 &&
					names.functions.filter((n) => n.includes(lower)).length === 1 &&
					names.drawn.every((n) => n === lower || !n.includes(lower))
				);
			});
			return split ? { flame: answer, row: split } : null;
		},
		240_000,
		3000,
	);
	const drawn = drawnSum(flame.tree, row.name);
	assert.ok(drawn < row.total, `${row.name}: ${drawn} drawn of ${row.total}`);

	// A remainder a few pixels wide is drawn (narrower ones are not, as no frame under a pixel is),
	// hovering it says what it holds, and the summary says how much the remainders hold.
	const graph = page.getByTestId('flame-graph');
	const remainders: TreeNode[] = [];
	const collect = (node: TreeNode) => (node.hidden !== undefined ? remainders.push(node) : node.children.forEach(collect));
	collect(flame.tree);
	await paintedFlame(graph);
	if (remainders.some((r) => r.value >= (3 * flame.totalSamples) / 1440)) {
		assert.ok((await paintedFlame(graph)).remainders > 0, 'the canvas counts the remainders it drew');
		const drawnRest = (await drawnFrames(graph)).filter((f) => f.remainder);
		assert.ok(drawnRest.length > 0, 'hovering a grey remainder names the frames it holds');
	}
	const hiddenText = (await page.getByTestId('hidden-frames').textContent()) ?? '';
	assert.match(hiddenText, /too narrow to draw/);

	// The header's Drops panel lists the collector's counters from /metrics and, beside them, what
	// this page's graph hides: the same count as the summary.
	await page.getByTestId('status-drops-button').click();
	const panel = page.getByTestId('drops-panel');
	await panel.locator('tr[data-counter="profile.userStackMissing"]').first().waitFor();
	const hiddenRow = panel.locator('tr[data-counter="flame.framesHidden"]');
	assert.equal(
		(await hiddenRow.locator('td.num').first().textContent())?.replace(/\D/g, ''),
		/^([\d,]+) frames/.exec(hiddenText)?.[1]?.replace(/\D/g, ''),
		'the Drops panel counts the hidden frames the summary counts',
	);
	await screenshot(page, 'drops-panel');
	await page.keyboard.press('Escape');
	await panel.waitFor({ state: 'detached' });

	// Clicking the function in the table searches it; the share is the hub's count of every sample.
	await page.getByTestId('top-function-row').filter({ hasText: row.name }).first().click();
	const share = page.getByTestId('flame-search-share');
	await waitFor(
		'the hub to count the search',
		async () => ((await share.getAttribute('data-counted')) === 'all' ? true : null),
		120_000,
		100,
	);
	assert.equal(Number(await share.getAttribute('data-matched')), row.total, 'the search share counts what the table counts');
	assert.equal(Number(await share.getAttribute('data-total')), flame.totalSamples);
	const text = (await share.textContent()) ?? '';
	assert.match(text, new RegExp(`${row.total - drawn} in frames too narrow to draw`), text);
	// And the graph highlights exactly the drawn part: the frames named so, in the match colour.
	const state = await paintedFlame(graph, (s) => s.matches > 0, 120_000);
	const named = await drawnFrames(graph, { name: row.name });
	assert.ok(named.length > 0, `${row.name} is drawn where a pointer finds it`);
	assert.ok(state.matches >= named.length, `${state.matches} frames highlighted, ${named.length} found by pointer`);
	// Its widest frame: a frame a pixel or two wide is blended with its neighbour where it is read.
	const color = await frameColor(
		graph,
		named.reduce((a, b) => (b.width > a.width ? b : a)),
	);
	assert.ok(isColor(color, MATCH_COLOR), `the drawn frames are highlighted: ${color.join(', ')}`);
	await screenshot(page, 'profiles-scale-search');
});

test('zooming asks the hub for the subtree at full resolution; the search share is then of the zoomed frame', { skip }, async () => {
	const start = Date.now() - 90_000;
	const end = await settled();
	const flame = await flameAnswer(() => page.goto(`${base()}/profiles?from=${start}&to=${end}&view=graph`));
	// The widest process with a remainder somewhere under it: zooming in must draw more of it.
	const processNode = [...flame.tree.children]
		.filter((c) => c.hidden === undefined)
		.sort((a, b) => b.value - a.value)
		.find((c) => JSON.stringify(c).includes('"hidden"'));
	assert.ok(processNode, 'a process with narrow frames');
	const graph = page.getByTestId('flame-graph');
	await paintedFlame(graph);
	const [frame] = await drawnFrames(graph, { name: processNode.name });
	assert.ok(frame, `${processNode.name} is drawn`);

	const [request, response] = await Promise.all([
		page.waitForRequest((r) => r.url().includes('profile.subtree')),
		page.waitForResponse((r) => r.url().includes('profile.subtree')),
		clickFrame(graph, frame),
	]);
	const requestUrl = new URL(request.url());
	const index = requestUrl.pathname
		.replace(/^\/trpc\//, '')
		.split(',')
		.indexOf('profile.subtree');
	const input = JSON.parse(requestUrl.searchParams.get('input') ?? '{}') as Record<string, { path: string[] }> & { path?: string[] };
	const asked = requestUrl.searchParams.has('batch') ? input[String(index)]?.path : input.path;
	assert.deepEqual(asked, [processNode.name], 'the subtree asked for is the clicked frame');
	const subtree = await batchAnswer<{ tree: TreeNode; totalSamples: number }>(response, 'profile.subtree');
	assert.equal(subtree.totalSamples, processNode.value, 'the subtree is the same node, same width');
	assert.equal(new URL(page.url()).searchParams.get('zoom'), processNode.name);
	// Pruned relative to the process alone, it has more nodes than the whole-profile tree drew of it.
	const count = (n: TreeNode): number => 1 + n.children.reduce((s, c) => s + count(c), 0);
	assert.ok(count(subtree.tree) > count(processNode), `${count(subtree.tree)} nodes against ${count(processNode)}`);
	// Zoomed into the pruned tree alone, the canvas can draw at most the root and that process's
	// nodes; more frames than that are the subtree's.
	const prunedMost = 1 + count(processNode);
	await paintedFlame(
		graph,
		(s) => s.zoom.join('/') === processNode.name && s.nodes > prunedMost,
		120_000,
		`the grafted subtree drawn, zoomed into ${processNode.name}, with more than the ${prunedMost} frames the pruned tree has there`,
	);

	// Search within the zoom: the share is relative to the zoomed process.
	const leaf = subtree.tree.children.filter((c) => c.hidden === undefined).sort((a, b) => b.value - a.value)[0];
	assert.ok(leaf, 'the process has a drawn child');
	await page.getByTestId('flame-search').fill(leaf.name);
	const share = page.getByTestId('flame-search-share');
	await waitFor('the zoomed search count', async () => ((await share.getAttribute('data-counted')) === 'all' ? true : null), 120_000, 100);
	assert.equal(Number(await share.getAttribute('data-total')), processNode.value, 'counted within the zoomed frame');
	assert.match((await share.textContent()) ?? '', new RegExp(`samples in ${processNode.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
	await screenshot(page, 'profiles-scale-zoomed');
});
