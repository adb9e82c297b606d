/**
 * Two collectors on one hub: the Hosts page lists both with their version, state, features (one
 * off, with why) and drops; the host selector narrows the Processes and Profiles pages to one host
 * and keeps the choice in the URL across the navigation. Fake collectors: no BPF needed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startFakeCollector, type FakeCollector } from '@firesight/testing/fake-collector';
import { startHub, type Hub } from '@firesight/web/server';
import { launchChromium } from './browser.ts';
import { freePort, screenshot, waitFor } from './support.ts';

const TOKEN = 'e2e-hosts-token-0123';
const TLS_OFF = 'bpf_program__attach_uprobe_opts was refused (Permission denied)';

let dir: string;
let hub: Hub | undefined;
let browser: Browser | undefined;
const collectors: FakeCollector[] = [];

before(async () => {
	dir = mkdtempSync(join(tmpdir(), 'firesight-e2e-hosts-'));
	hub = await startHub({ listen: { host: '127.0.0.1', port: await freePort() }, dataDir: dir, token: TOKEN, auth: true, log: () => {} });
	collectors.push(
		await startFakeCollector({
			hubUrl: hub.url,
			token: TOKEN,
			host: 'web-1',
			features: { running: ['profile', 'tcp'], failed: [{ name: 'tls', reason: TLS_OFF }] },
		}),
		await startFakeCollector({
			hubUrl: hub.url,
			token: TOKEN,
			host: 'db-1',
			frequencyHz: 49,
			processes: [
				{
					pid: 5432,
					comm: 'only-on-db',
					cmdline: 'only-on-db --serve',
					cpuPercent: 40,
					stacks: [
						{
							frames: [
								{ name: 'main', module: 'db', kind: 'user' },
								{ name: 'db_only_fn', module: 'db', kind: 'user' },
							],
							weight: 1,
						},
					],
				},
			],
		}),
	);
	browser = await launchChromium();
});

after(async () => {
	for (const c of collectors) await c.close();
	await browser?.close();
	await hub?.close();
	rmSync(dir, { recursive: true, force: true });
});

test('the Hosts page lists both collectors and the host selector narrows the other pages to one', async () => {
	const context = await browser!.newContext({
		extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` },
		viewport: { width: 1440, height: 900 },
	});
	const page = await context.newPage();
	const errors: string[] = [];
	page.on('pageerror', (error) => errors.push(error.message));

	await page.goto(`${hub!.url}/hosts`);
	const web = page.getByTestId('host-row-web-1');
	const db = page.getByTestId('host-row-db-1');
	await web.waitFor({ timeout: 60_000 });
	await db.waitFor({ timeout: 60_000 });
	await waitFor('both hosts connected', async () => (await page.getByTestId('hosts-connected').innerText()) === '2 / 2', 60_000);
	const webText = await web.innerText();
	assert.match(webText, /connected/);
	assert.match(webText, /0\.1\.0-fake/);
	assert.match(webText, /99 Hz/);
	assert.match(webText, /tls off/);
	assert.match(webText, /Permission denied/);
	assert.match(await db.innerText(), /49 Hz/);
	assert.equal(await web.getByTestId('host-feature-failed').getAttribute('title'), `tls could not load: ${TLS_OFF}`);
	await screenshot(page, 'hosts');

	// Pick db-1 alone in the header's selector.
	await page.getByTestId('host-selector').locator('summary').click();
	// The box follows the URL, which the click changes through the router: check it once the URL has.
	// Exactly the box: once db-1 is selected, the menu's summary is labelled 'Hosts shown: db-1' too.
	const dbBox = page.getByTestId('host-selector').getByRole('checkbox', { name: 'db-1', exact: true });
	await dbBox.click();
	await page.waitForURL(/\/hosts\?host=db-1$/);
	await waitFor('db-1 checked', () => dbBox.isChecked(), 60_000, 100).catch(() => {});
	assert.equal(await dbBox.isChecked(), true, 'db-1 checked once the URL selects it');
	assert.equal(await page.getByTestId('host-selector-label').innerText(), 'db-1');
	await screenshot(page, 'hosts-selector');

	// The navigation keeps the selection; Processes shows db-1's processes only.
	await page.getByRole('link', { name: 'Processes' }).click();
	await page.waitForURL(/\/\?host=db-1$/);
	await page.getByTestId('process-row-5432').waitFor({ timeout: 60_000 });
	assert.equal(await page.getByTestId('process-row-4242').count(), 0, 'web-1 process shown with only db-1 selected');

	// Profiles of db-1 alone, then of both hosts merged.
	for (const c of collectors) c.flush();
	await page.getByRole('link', { name: 'Profiles' }).click();
	await page.waitForURL(/\/profiles\?host=db-1$/);
	const table = page.getByTestId('top-functions');
	await table.getByText('db_only_fn').first().waitFor({ timeout: 60_000 });
	assert.equal(await table.getByText('hot_a').count(), 0, 'web-1 function shown with only db-1 selected');

	await page.goto(`${hub!.url}/profiles?host=db-1&host=web-1`);
	await table.getByText('hot_a').first().waitFor({ timeout: 60_000 });
	await table.getByText('db_only_fn').first().waitFor({ timeout: 60_000 });
	assert.equal(await page.getByTestId('host-selector-label').innerText(), '2 hosts');
	await screenshot(page, 'profiles-two-hosts');
	assert.deepEqual(errors, []);
	await context.close();
});
