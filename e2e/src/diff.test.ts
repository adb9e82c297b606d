/**
 * The diff page in Chromium: two folded profiles imported through POST /api/import (as
 * `firesight import` does) are compared on /diff. The function whose share grew leads the
 * regressions table and is painted red in the diff flame graph, the one that shrank green; the
 * Share diff link opens in a fresh browser context without a session and shows the same. No BPF
 * needed: the hub runs in this process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startHub, type Hub } from '@firesight/web/server';
import { launchChromium } from './browser.ts';
import { drawnFrames, frameColor, paintedFlame } from './flame-frames.ts';
import { freePort, RESULTS_DIR } from './support.ts';

const TOKEN = 'e2e-diff-token-0123';
const REGRESSED = 'diff_e2e_regressed';
const IMPROVED = 'diff_e2e_improved';
let dir: string;
let hub: Hub | undefined;
let browser: Browser | undefined;

// The baseline spends 10% in the regressed function and 90% in the improved one; the comparison,
// with twice the samples, 60% and 40%: +50 points and -50 points of each side's total.
const BASELINE = `diffapp;main;${REGRESSED} 10\ndiffapp;main;${IMPROVED} 90\n`;
const COMPARISON = `diffapp;main;${REGRESSED} 120\ndiffapp;main;${IMPROVED} 80\n`;

async function importFolded(name: string, text: string): Promise<string> {
	const res = await fetch(`${hub!.url}/api/import?name=${name}`, {
		method: 'POST',
		body: text,
		headers: { authorization: `Bearer ${TOKEN}` },
	});
	assert.equal(res.status, 201, await res.clone().text());
	return ((await res.json()) as { id: string }).id;
}

before(async () => {
	dir = mkdtempSync(join(tmpdir(), 'firesight-e2e-diff-'));
	hub = await startHub({ listen: { host: '127.0.0.1', port: await freePort() }, dataDir: dir, token: TOKEN, auth: true, log: () => {} });
	browser = await launchChromium();
});

after(async () => {
	await browser?.close();
	await hub?.close();
	rmSync(dir, { recursive: true, force: true });
});

/** The fill of the diff graph's frame with this name, as [red, green, blue]. */
async function frameFill(page: Page, name: string): Promise<[number, number, number]> {
	const graph = page.getByTestId('flame-graph');
	await paintedFlame(graph);
	const frame = (await drawnFrames(graph, { name })).at(-1);
	assert.ok(frame, `${name} is drawn`);
	return frameColor(graph, frame);
}

async function checkDiff(page: Page, round: string): Promise<void> {
	const firstRegression = page.getByTestId('diff-regressions').getByTestId('diff-row').first();
	await firstRegression.waitFor({ timeout: 60_000 });
	assert.equal(await firstRegression.getAttribute('data-name'), REGRESSED, round);
	assert.match(await firstRegression.innerText(), /\+50\.0 pp/, round);
	assert.equal(await page.getByTestId('diff-improvements').getByTestId('diff-row').first().getAttribute('data-name'), IMPROVED, round);
	const [r, g] = await frameFill(page, REGRESSED);
	assert.ok(r > g + 100, `${round}: the regressed function is red, got rgb(${r},${g},…)`);
	const [r2, g2] = await frameFill(page, IMPROVED);
	assert.ok(g2 > r2 + 50, `${round}: the improved function is green, got rgb(${r2},${g2},…)`);
	await page.getByTestId('diff-legend').waitFor();
}

test('two imported profiles diffed on /diff: the regression leads the table in red, and the diff link opens in a fresh context', async () => {
	const baseline = await importFolded('before.folded', BASELINE);
	const comparison = await importFolded('after.folded', COMPARISON);

	const owner = await browser!.newContext({
		extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` },
		viewport: { width: 1440, height: 900 },
	});
	const page = await owner.newPage();
	await page.goto(`${hub!.url}/diff?base=${baseline}&cmp=${comparison}`);
	await checkDiff(page, 'owner');
	await page.screenshot({ path: join(RESULTS_DIR, 'diff-owner.png'), fullPage: true });
	await page.getByTestId('diff-share').click();
	const field = page.getByTestId('diff-link');
	await field.waitFor({ timeout: 60_000 });
	const link = await field.inputValue();
	assert.equal(link, `${hub!.url}/s/${baseline}/diff/${comparison}`);
	await owner.close();

	const stranger = await browser!.newContext({ viewport: { width: 1440, height: 900 } });
	const view = await stranger.newPage();
	const answer = await view.goto(link);
	assert.equal(answer?.status(), 200);
	await checkDiff(view, 'fresh context');
	// The view goes into the link and survives a reload.
	await view.getByTestId('diff-rank-total').click();
	await view.waitForURL((url) => url.searchParams.get('rank') === 'total', { timeout: 60_000 });
	await view.reload();
	assert.equal(await view.getByTestId('diff-rank-total').getAttribute('aria-pressed'), 'true');
	await checkDiff(view, 'after reload');
	await view.screenshot({ path: join(RESULTS_DIR, 'diff-shared.png'), fullPage: true });
	// Without a session the live diff stays closed.
	assert.equal((await view.request.get(`${hub!.url}/diff`, { maxRedirects: 0 })).status(), 303);
	await stranger.close();
});

test("a share's top functions table opens the sandwich of the function picked, without a session", async () => {
	// The regressed function is called through a (30) and b (10): both are its callers.
	const id = await importFolded(
		'sandwich.folded',
		`diffapp;main;a;${REGRESSED} 30\ndiffapp;main;b;${REGRESSED} 10\ndiffapp;main;${IMPROVED} 5\n`,
	);
	const stranger = await browser!.newContext({ viewport: { width: 1440, height: 900 } });
	const page = await stranger.newPage();
	await page.goto(`${hub!.url}/s/${id}`);
	const top = page.getByTestId('top-function-row').first();
	await top.waitFor({ timeout: 60_000 });
	assert.match(await top.innerText(), new RegExp(REGRESSED));
	await top.click();
	await page.getByTestId('table-sandwich').click();
	await page.waitForURL((url) => url.pathname === `/s/${id}/sandwich` && url.searchParams.get('fn') === REGRESSED, { timeout: 60_000 });
	assert.match(await page.getByTestId('sandwich-totals').innerText({ timeout: 60_000 }), /^total 40 samples .* self 40 /);
	const callers = page.getByTestId('sandwich-callers');
	await paintedFlame(callers);
	const names = (await drawnFrames(callers)).map((f) => f.name);
	for (const name of ['a', 'b', 'main']) assert.ok(names.includes(name), `${name} among the callers drawn: ${names.join(', ')}`);
	await page.screenshot({ path: join(RESULTS_DIR, 'sandwich-shared.png'), fullPage: true });
	await stranger.close();
});
