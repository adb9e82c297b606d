/**
 * The Profiles page under `firesight up` with real BPF: a CPU-bound `dd` that spends its time in
 * the kernel and a Node process without perf maps. Kernel frames have their own colour family,
 * a drag across the CPU-over-time chart sets the range in the URL, and Node's unnamed JavaScript
 * gets a hint. Needs root and BPF; it skips without them unless FIRESIGHT_REQUIRE_BPF=1.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { bpfSkip } from '@firesight/testing/bpf-test-gate';
import { launchChromium } from './browser.ts';
import { drawnFrames, frameColor, hueOf, paintedFlame } from './flame-frames.ts';
import { freePort, screenshot, startUpHealthy, waitFor, type UpProcess } from './support.ts';

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
	kind?: string;
	children: TreeNode[];
}

/** The widest frame of a kind in the tree the page itself asks for. */
function widest(node: TreeNode, kind: string, best: TreeNode | null = null): TreeNode | null {
	let found = best;
	if (node.kind === kind && (found === null || node.value > found.value)) found = node;
	for (const child of node.children) found = widest(child, kind, found);
	return found;
}

async function flameTree(query: Record<string, unknown>): Promise<TreeNode> {
	return page.evaluate(async (input) => {
		const response = await fetch(`/trpc/profile.flame?input=${encodeURIComponent(JSON.stringify(input))}`);
		const body = (await response.json()) as { result: { data: { tree: TreeNode } } };
		return body.result.data.tree;
	}, query);
}

before(async () => {
	if (skip) return;
	workDir = mkdtempSync(join(tmpdir(), 'firesight-e2e-'));
	port = await freePort();
	// dd copies zeros through read(2)/write(2): most of its samples are kernel frames.
	workloads.push(spawn('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=64k'], { stdio: 'ignore' }));
	// Node without --perf-basic-prof: its JIT code has no names, only [anon] frames.
	workloads.push(spawn(process.execPath, ['-e', 'let x = 0; for (;;) { x = (x + Math.sqrt(x + 1)) % 1e9; }'], { stdio: 'ignore' }));
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

test('kernel frames are filled from their own colour family, apart from user frames', { skip }, async () => {
	await page.goto(`${base()}/profiles?range=5m&comm=dd`);
	const to = Date.now() + 60_000;
	// Wait for windows with both kinds of dd's frames, then read the fills the page painted.
	const [kernel, user] = await waitFor(
		'dd samples with kernel and user frames',
		async () => {
			const tree = await flameTree({ fromMs: Date.now() - 300_000, toMs: to, comm: 'dd' });
			const k = widest(tree, 'kernel');
			const u = widest(tree, 'user');
			return k && u && k.value >= 20 ? ([k, u] as const) : null;
		},
		60_000,
		1000,
	);
	await page.reload();
	const graph = page.getByTestId('flame-graph');
	await paintedFlame(graph);
	// The colours painted where hovering names each frame.
	const frames = await drawnFrames(graph);
	const kernelFrame = frames.find((f) => f.name === kernel.name);
	const userFrame = frames.find((f) => f.name === user.name);
	assert.ok(kernelFrame && userFrame, `${kernel.name} and ${user.name} are drawn`);
	const kernelHue = hueOf(await frameColor(graph, kernelFrame));
	const userHue = hueOf(await frameColor(graph, userFrame));
	await screenshot(page, 'profiles-readable-dd');
	assert.ok(kernelHue >= 190 && kernelHue <= 235, `${kernel.name} (kernel) is blue: hue ${kernelHue}`);
	assert.ok(userHue <= 40 || userHue >= 340, `${user.name} (user) is red or orange: hue ${userHue}`);
});

test('a drag across the CPU-over-time chart sets the range in the URL', { skip }, async () => {
	await page.goto(`${base()}/profiles?range=5m`);
	const chart = page.getByTestId('cpu-timeline').locator('.recharts-surface');
	await chart.waitFor({ state: 'visible' });
	await page.getByTestId('cpu-timeline').locator('.recharts-area-area').waitFor({ state: 'attached' });
	const box = await chart.boundingBox();
	assert.ok(box, 'the chart has a box');
	const y = box.y + box.height / 2;
	const before = Date.now();
	await page.mouse.move(box.x + box.width * 0.5, y);
	await page.mouse.down();
	for (const share of [0.6, 0.7, 0.8, 0.9]) await page.mouse.move(box.x + box.width * share, y, { steps: 4 });
	await page.mouse.up();
	await page.waitForURL((url) => url.searchParams.has('from') && url.searchParams.has('to'));
	const url = new URL(page.url());
	const from = Date.parse(url.searchParams.get('from') ?? '');
	const to = Date.parse(url.searchParams.get('to') ?? '');
	assert.ok(from < to, `from ${url.searchParams.get('from')} is before to ${url.searchParams.get('to')}`);
	assert.ok(to - from < 5 * 60_000 * 0.6, `the selection (${to - from} ms) is narrower than the 5-minute range`);
	assert.ok(from > before - 5 * 60_000 - 60_000 && to <= before + 60_000, 'the selection lies inside the range shown');
	assert.equal(url.searchParams.get('range'), null, 'a selected range replaces the preset');
	await page.getByTestId('cpu-timeline').locator('.recharts-area-area').waitFor({ state: 'attached' });
	await screenshot(page, 'profiles-readable-brushed');
});

test('a Node process without perf maps gets the --perf-basic-prof hint', { skip }, async () => {
	const pid = workloads[1]?.pid;
	assert.ok(pid);
	await page.goto(`${base()}/profiles?range=5m&pid=${pid}`);
	const hint = page.getByTestId('node-perf-map-hint');
	await waitFor(
		'the hint',
		async () => {
			if (await hint.isVisible()) return true;
			await page.reload();
			return null;
		},
		60_000,
		3000,
	);
	assert.match((await hint.textContent()) ?? '', /--perf-basic-prof --interpreted-frames-native-stack/);
	await screenshot(page, 'profiles-readable-node');
});
