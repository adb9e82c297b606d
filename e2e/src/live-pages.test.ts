/// <reference lib="dom" />
/**
 * The live pages under the load of a busy host: a hub fed through its real ingest by the fake
 * busy-host collector (1,000 processes, a quarter of them kernel threads, 1,000 connections and
 * 100 requests/s, each from a new `curl` pid). No BPF needed. The real capture of a request and
 * its redacted headers is in requests.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startHub, type Hub } from '@firesight/web/server';
import { startFakeLiveLoad, type FakeLiveLoad } from '@firesight/testing/fake-live-load';
import { launchChromium } from './browser.ts';
import { freePort, screenshot, waitFor } from './support.ts';

const token = 'e2e-token';
let dataDir: string;
let hub: Hub | undefined;
let load: FakeLiveLoad | undefined;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
	dataDir = mkdtempSync(join(tmpdir(), 'firesight-e2e-live-'));
	const port = await freePort();
	hub = await startHub({ listen: { host: '127.0.0.1', port }, token, dataDir, log: () => {} });
	// Windows every 2 s, so the endpoint table fills soon.
	load = await startFakeLiveLoad({ hubUrl: hub.url, token, windowMs: 2_000 });
	browser = await launchChromium();
	page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
	page.on('pageerror', (error) => pageErrors.push(error.message));
});

after(async () => {
	await browser?.close();
	await load?.close();
	await hub?.close();
	rmSync(dataDir, { recursive: true, force: true });
});

const rows = (prefix: string) => page.locator(`[data-testid^="${prefix}"]`);

test('the process table draws only the rows in view of a thousand, and hides idle kernel threads until asked', async () => {
	await page.goto(`${hub!.url}/`);
	await rows('process-row-').first().waitFor();
	const note = page.getByTestId('idle-kernel-hidden');
	await note.waitFor();
	const hidden = Number(((await note.textContent()) ?? '').replace(/[^\d]/g, ''));
	assert.equal(hidden, load!.idleKernelPids.length, 'every idle kernel thread is counted as hidden');
	const drawn = await rows('process-row-').count();
	assert.ok(drawn > 10 && drawn < 200, `${drawn} rows in the DOM for ${1000 - hidden} processes`);
	await screenshot(page, 'live-processes-load');

	// One idle kernel thread, looked for by its pid: not there by default, there once shown.
	const idle = load!.idleKernelPids[3]!;
	await page.getByTestId('process-filter').fill(String(idle));
	// Once the toolbar counts what the filter kept, the table is the filtered one.
	await page
		.getByText(/\d+ of \d+ processes/)
		.first()
		.waitFor();
	assert.equal(await page.getByTestId(`process-row-${idle}`).count(), 0, 'an idle kernel thread is hidden by default');
	await page.getByTestId('show-idle-kernel-threads').check();
	await page.getByTestId(`process-row-${idle}`).waitFor();
	assert.match((await page.getByTestId(`process-row-${idle}`).textContent()) ?? '', /kernel thread/);
	await page.getByTestId('process-filter').fill('');
	await screenshot(page, 'live-processes-kernel-threads-shown');
	await page.getByTestId('show-idle-kernel-threads').uncheck();
	// A user process with no CPU stays: only kernel threads are hidden.
	await page.getByTestId('process-filter').fill('--worker 999');
	await page.getByTestId('process-row-1099').waitFor();
	await page.getByTestId('process-filter').fill('');
});

test('the process table, sorted by CPU, reorders every second but holds still while the pointer is on a row', async () => {
	await page.goto(`${hub!.url}/`);
	await rows('process-row-').first().waitFor();
	const order = () =>
		rows('process-row-').evaluateAll((els) =>
			els
				.slice(0, 20)
				.map((el) => el.getAttribute('data-testid'))
				.join(),
		);
	const updated = page.getByTestId('live-updated');
	const snapshots = async (n: number) => {
		let last = await updated.textContent();
		for (let seen = 0; seen < n;) {
			await waitFor('a newer snapshot', async () => (await updated.textContent()) !== last, 60_000);
			last = await updated.textContent();
			seen++;
		}
	};
	// Live: the fake host's CPU figures change every snapshot, and with them the order.
	const before = await order();
	await waitFor('the live order to change', async () => (await order()) !== before, 60_000);

	await rows('process-row-').nth(3).hover();
	await page.getByTestId('process-hold').waitFor();
	const held = await order();
	await snapshots(3);
	assert.equal(await order(), held, 'the rows under the pointer keep their places while snapshots arrive');
	await screenshot(page, 'live-processes-held');

	// Off the rows, on the column headers: live again.
	await page.getByTestId('process-table').locator('thead').hover();
	await page.getByTestId('process-hold').waitFor({ state: 'detached' });
	await waitFor('the live order to change again', async () => (await order()) !== held, 60_000);
});

test('the connection table of a thousand rows scrolls through all of them', async () => {
	await page.goto(`${hub!.url}/network`);
	await rows('connection-row-').first().waitFor();
	assert.ok((await rows('connection-row-').count()) < 200, 'only the rows in view are drawn');
	const wrap = page.getByTestId('connection-panel').locator('div.virtual-table-wrap');
	await wrap.evaluate((el: HTMLElement) => el.scrollTo(0, el.scrollHeight));
	// The last row by retransmits (then input order) is drawn once scrolled to the end.
	await waitFor(
		'the end of the table to be drawn',
		async () =>
			(await wrap.evaluate((el: HTMLElement) => el.scrollTop + el.clientHeight >= el.scrollHeight - 2)) &&
			(await rows('connection-row-').count()) > 0,
		60_000,
	);
	await screenshot(page, 'live-network-load');
});

test('endpoints are grouped by command, server and client apart, not one row per curl pid', async () => {
	await page.goto(`${hub!.url}/requests`);
	const curl = rows('endpoint-row-curl-client');
	await curl.first().waitFor();
	await waitFor('more than one curl pid behind a row', async () => load!.clientPids().length > 200, 60_000);
	// Until the page shows a row standing for many curl pids (one row per pid never does).
	const pids = await waitFor(
		'a curl row standing for more than 10 pids',
		async () => {
			const text = await curl.first().getByTestId('endpoint-pids').textContent({ timeout: 1_000 });
			const n = Number((text ?? '').replace(/[^\d]/g, ''));
			return n > 10 ? n : null;
		},
		60_000,
	);
	// Six endpoints, each called by curl and served by nginx: twelve rows, whatever the number of pids.
	assert.equal(await curl.count(), 6);
	assert.equal(await rows('endpoint-row-nginx-server').count(), 6);
	assert.ok(pids > 10, `one curl row stands for ${pids} processes`);
	assert.equal(
		await page.getByTestId('endpoint-range').locator('select, input, button').first().isVisible(),
		true,
		'the range sits in the endpoint panel',
	);
	await screenshot(page, 'live-requests-load');
});

test('a request row opens its drawer with the redacted headers; Esc closes it and focus returns', async () => {
	await page.goto(`${hub!.url}/requests`);
	const row = rows('request-row-').first();
	await row.waitFor();
	await row.focus();
	// 100 requests a second would push an unheld row out of the drawn window (and the DOM) within
	// a quarter of a second; the table holds still while a row has focus, so Enter still finds it.
	const hold = page.getByTestId('request-hold');
	await waitFor(
		'50 newer requests waiting behind the held table',
		async () => Number(/([\d,]+) newer/.exec((await hold.textContent({ timeout: 1_000 })) ?? '')?.[1]?.replace(/,/g, '') ?? 0) >= 50,
		60_000,
	);
	assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? ''), await row.getAttribute('data-testid'));
	await screenshot(page, 'live-requests-held');
	await page.keyboard.press('Enter');
	const drawer = page.getByTestId('request-drawer');
	await drawer.waitFor();
	const headers = drawer.getByTestId('request-headers');
	await headers.waitFor();
	const authorization = headers.locator('tr', { hasText: 'Authorization' });
	assert.equal((await authorization.getByTestId('redacted-header').textContent())?.trim(), 'REDACTED');
	assert.match((await drawer.textContent()) ?? '', /Latency/);
	assert.match((await drawer.textContent()) ?? '', /Response size/);
	await screenshot(page, 'live-requests-drawer');
	await page.keyboard.press('Escape');
	await drawer.waitFor({ state: 'detached' });
	// Back on the row, or on its table when newer requests pushed the row out meanwhile.
	assert.equal(
		await page.evaluate(
			() => document.activeElement?.closest('.requests-live') !== null && document.activeElement?.closest('.requests-live') !== undefined,
		),
		true,
		'focus is back in the request table',
	);
	assert.deepEqual(pageErrors, []);
});
