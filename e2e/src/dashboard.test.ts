/**
 * The dashboard against a hub fed by a fake collector: no BPF needed, so this runs anywhere the
 * dashboard is built. The real end-to-end test with `firesight up` is up.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startHub, type Hub } from '@firesight/web/server';
import { launchChromium } from './browser.ts';
import { checkBanner, checkProfileShare, expectProcessRow } from './dashboard-flow.ts';
import { startFakeCollector, type FakeCollector } from '@firesight/testing/fake-collector';
import { freePort, screenshot } from './support.ts';

const token = 'e2e-token';
let dataDir: string;
let port: number;
let hub: Hub | undefined;
let collector: FakeCollector | undefined;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

async function startAll(): Promise<void> {
	hub = await startHub({ listen: { host: '127.0.0.1', port }, token, dataDir, log: () => {} });
	collector = await startFakeCollector({ hubUrl: hub.url, token, windowMs: 1_000 });
}

async function stopAll(): Promise<void> {
	await collector?.close();
	await hub?.close();
	collector = undefined;
	hub = undefined;
}

before(async () => {
	dataDir = mkdtempSync(join(tmpdir(), 'firesight-e2e-ui-'));
	port = await freePort();
	await startAll();
	browser = await launchChromium();
	page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
	page.on('pageerror', (error) => pageErrors.push(error.message));
});

after(async () => {
	await browser?.close();
	await stopAll();
	rmSync(dataDir, { recursive: true, force: true });
});

const base = () => `http://127.0.0.1:${port}`;

test('the live table lists the processes and sorts and filters them', async (t) => {
	t.diagnostic(`row visible ${await expectProcessRow(page, base(), 4242, 'ui-processes')} ms after the page was opened`);
	await page.getByTestId('sort-pid').click();
	const firstPid = await page.locator('[data-testid^="process-row-"]').first().getAttribute('data-testid');
	assert.equal(firstPid, 'process-row-1', 'ascending by pid puts pid 1 first');
	await page.getByTestId('process-filter').fill('postgres');
	assert.equal(await page.locator('[data-testid^="process-row-"]').count(), 1);
	await page.getByTestId('process-filter').fill('');
	assert.match((await page.getByTestId('status-hosts').textContent()) ?? '', /^1/);
});

test('a process row opens its flame graph, search shows the share, the table lists functions', async () => {
	const { share } = await checkProfileShare(page, { pid: 4242, minSamples: 150, expectedShare: 60, tolerance: 2, shotPrefix: 'ui' });
	assert.ok(share > 0);
});

test('an unknown pid says so instead of drawing nothing', async () => {
	await page.goto(`${base()}/profiles?pid=999999`);
	const empty = page.getByTestId('profile-empty');
	await empty.waitFor();
	assert.match((await empty.textContent()) ?? '', /PID 999999/);
	await screenshot(page, 'ui-unknown-pid');
});

test('link parameters the page cannot honour are named, and can be removed from the link', async () => {
	await page.goto(`${base()}/profiles?pid=abc&range=7y`);
	const warnings = page.getByTestId('query-warnings');
	await warnings.waitFor();
	const text = (await warnings.textContent()) ?? '';
	assert.match(text, /Ignored pid=abc: not a process id/);
	assert.match(text, /Ignored range=7y: not one of /);
	await screenshot(page, 'ui-bad-link');
	await page.getByTestId('query-warnings-clean').click();
	await page.waitForURL((url) => url.pathname === '/profiles' && url.search === '');
	await warnings.waitFor({ state: 'detached' });
});

test('a sandwich link names the profile parameters it cannot honour, too', async () => {
	await page.goto(`${base()}/sandwich?fn=main&pid=abc`);
	const warnings = page.getByTestId('query-warnings');
	await warnings.waitFor({ timeout: 10_000 });
	assert.match((await warnings.textContent()) ?? '', /Ignored pid=abc: not a process id/);
	assert.doesNotMatch((await warnings.textContent()) ?? '', /fn=main/);
	await page.getByTestId('query-warnings-clean').click();
	await page.waitForURL((url) => url.pathname === '/sandwich' && url.search === '?fn=main', { timeout: 5_000 });
	await warnings.waitFor({ state: 'detached', timeout: 5_000 });
});

test('a diff link names what a side asks for that the diff cannot honour', async () => {
	await page.goto(`${base()}/diff?base=${encodeURIComponent('pid=abc')}&cmp=${encodeURIComponent('range=15m')}`);
	const warnings = page.getByTestId('query-warnings');
	await warnings.waitFor({ timeout: 10_000 });
	assert.match((await warnings.textContent()) ?? '', /Ignored base\.pid=abc: not a process id/);
	await page.getByTestId('query-warnings-clean').click();
	await page.waitForURL((url) => url.pathname === '/diff' && !url.searchParams.get('base')?.includes('abc'), { timeout: 5_000 });
	await warnings.waitFor({ state: 'detached', timeout: 5_000 });
});

test('the banner shows while the hub is down and clears when it is back', async () => {
	await page.goto(`${base()}/`);
	await checkBanner(page, stopAll, startAll, 'ui');
	await page.getByTestId('process-row-4242').waitFor();
	assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});
