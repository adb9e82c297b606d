/**
 * A hub with auth on, in Chromium: a page sends the browser to the login page, a wrong token is
 * refused there, the right one sets an HttpOnly session cookie that opens the API and /live.
 * No BPF needed: the hub runs in this process with the dashboard and no collector.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startHub, type Hub } from '@firesight/web/server';
import { launchChromium } from './browser.ts';
import { freePort } from './support.ts';

const TOKEN = 'e2e-login-token-0123';
let dir: string;
let hub: Hub | undefined;
let browser: Browser | undefined;

before(async () => {
	dir = mkdtempSync(join(tmpdir(), 'firesight-e2e-login-'));
	hub = await startHub({ listen: { host: '127.0.0.1', port: await freePort() }, dataDir: dir, token: TOKEN, auth: true, log: () => {} });
	browser = await launchChromium();
});

after(async () => {
	await browser?.close();
	await hub?.close();
	rmSync(dir, { recursive: true, force: true });
});

test('a browser logs in with the token and gets a session, never the token, in an HttpOnly cookie', async () => {
	const context = await browser!.newContext();
	const page = await context.newPage();
	await page.goto(`${hub!.url}/profiles?range=15m`);
	assert.equal(new URL(page.url()).pathname, '/login');
	assert.equal(new URL(page.url()).searchParams.get('next'), '/profiles?range=15m');

	await page.getByLabel('Token').fill('not-the-token');
	await page.getByRole('button', { name: 'Log in' }).click();
	await page.waitForURL(/\/login\?failed=1/);
	await page.getByRole('alert').filter({ hasText: "not this hub's token" }).waitFor();
	assert.equal((await context.cookies()).length, 0);

	await page.getByLabel('Token').fill(TOKEN);
	await page.getByRole('button', { name: 'Log in' }).click();
	await page.waitForURL((url) => url.pathname === '/profiles');
	assert.equal(new URL(page.url()).searchParams.get('range'), '15m');
	const [cookie] = await context.cookies();
	assert.equal(cookie?.name, 'firesight_session');
	assert.equal(cookie?.httpOnly, true);
	assert.equal(cookie?.sameSite, 'Strict');
	assert.ok(!cookie?.value.includes(TOKEN));

	// Scripts on the page cannot read the cookie, but their requests carry it.
	// (Strings: this workspace's types do not include the DOM the page runs them in.)
	assert.equal(await page.evaluate('document.cookie'), '');
	assert.equal(await page.evaluate("fetch('/trpc/hosts.list').then((r) => r.status)"), 200);
	const liveOpened = await page.evaluate(`new Promise((resolve) => {
		const ws = new WebSocket('ws://' + location.host + '/live');
		ws.onopen = () => { ws.close(); resolve(true); };
		ws.onerror = () => resolve(false);
	})`);
	assert.equal(liveOpened, true);

	// Another browser without the cookie is still sent to log in.
	const stranger = await browser!.newContext();
	const other = await stranger.newPage();
	const api = await other.request.get(`${hub!.url}/trpc/hosts.list`);
	assert.equal(api.status(), 401);
	await other.goto(`${hub!.url}/`);
	assert.equal(new URL(other.url()).pathname, '/login');
	await stranger.close();
	await context.close();
});
