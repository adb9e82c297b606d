/**
 * Share links in Chromium: a logged-in browser presses Share on the Profiles page; a fresh
 * browser context with no session opens the link and finds the same hot function in the same
 * view, which survives a reload. Unknown and malformed ids get the not-found page with status
 * 404. No BPF needed: the hub runs in this process and the windows are stored directly.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startHub, type Hub } from '@firesight/web/server';
import { launchChromium } from './browser.ts';
import { paintedFlame } from './flame-frames.ts';
import { freePort, RESULTS_DIR } from './support.ts';

const TOKEN = 'e2e-share-token-0123';
const HOT = 'share_e2e_hot_function';
let dir: string;
let hub: Hub | undefined;
let browser: Browser | undefined;
const T0 = Date.now() - 10 * 60_000;

before(async () => {
	dir = mkdtempSync(join(tmpdir(), 'firesight-e2e-share-'));
	hub = await startHub({ listen: { host: '127.0.0.1', port: await freePort() }, dataDir: dir, token: TOKEN, auth: true, log: () => {} });
	for (let i = 0; i < 3; i++) {
		await hub.storage.profiles.insertWindow({
			host: 'e2e-host',
			startMs: T0 + i * 10_000,
			durationMs: 10_000,
			frequencyHz: 99,
			frames: [
				{ name: 'main', module: 'app', kind: 'user' },
				{ name: HOT, module: 'app', kind: 'user' },
				{ name: 'share_e2e_cold_function', module: 'app', kind: 'user' },
				{ name: 'do_syscall_64', module: '[kernel.kallsyms]', kind: 'kernel' },
			],
			samples: [
				{ pid: 4242, comm: 'shareapp', stack: [0, 1], weight: 300 },
				{ pid: 4242, comm: 'shareapp', stack: [0, 2, 3], weight: 40 },
			],
		});
	}
	browser = await launchChromium();
});

after(async () => {
	await browser?.close();
	await hub?.close();
	rmSync(dir, { recursive: true, force: true });
});

async function firstFunction(page: Page): Promise<string> {
	const row = page.getByTestId('top-function-row').first();
	await row.waitFor({ timeout: 60_000 });
	return (await row.innerText()).split('\n')[0]!.split(' · ')[0]!.trim();
}

test('Share on the Profiles page makes a link a browser without a session opens in the same view, also after a reload', async () => {
	const range = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 30_000).toISOString()}`;
	const owner = await browser!.newContext({ extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` } });
	const page = await owner.newPage();
	await page.goto(`${hub!.url}/profiles?${range}&orient=flame&q=${HOT}`);
	const liveTop = await firstFunction(page);
	assert.equal(liveTop, HOT);
	await page.getByTestId('share-create').click();
	const field = page.getByTestId('share-link');
	await field.waitFor({ timeout: 60_000 });
	const link = await field.inputValue();
	assert.match(link, new RegExp(`^${hub!.url}/s/[A-Za-z0-9_-]{22}\\?`));
	const id = new URL(link).pathname.split('/')[2]!;

	// A file picked (or dropped) on the Profiles page becomes a share, and the page opens it.
	await page.getByTestId('import-file').setInputFiles({
		name: 'stacks.folded',
		mimeType: 'text/plain',
		buffer: Buffer.from(`imported;main;imported_hot_fn 70\nimported;main 5\n`),
	});
	await page.waitForURL(/\/s\/[A-Za-z0-9_-]{22}$/, { timeout: 60_000 });
	assert.equal(await firstFunction(page), 'imported_hot_fn');
	await page.getByTestId('share-source').filter({ hasText: 'stacks.folded (folded)' }).waitFor();
	await page.goto(`${hub!.url}/profiles?${range}`);
	await page
		.getByTestId('import-file')
		.setInputFiles({ name: 'junk.bin', mimeType: 'application/octet-stream', buffer: Buffer.from([1, 2, 3, 250]) });
	await page.getByTestId('import-error').filter({ hasText: 'junk.bin: not a profile' }).waitFor({ timeout: 60_000 });
	assert.equal((await hub!.storage.shares.list()).length, 2);
	await owner.close();

	const stranger = await browser!.newContext();
	assert.equal((await stranger.cookies()).length, 0);
	const view = await stranger.newPage();
	const answer = await view.goto(link);
	assert.equal(answer?.status(), 200);
	assert.equal(new URL(view.url()).pathname, `/s/${id}`);
	for (const round of ['first load', 'after reload']) {
		assert.equal(await firstFunction(view), HOT, round);
		await view.getByTestId('share-source').filter({ hasText: 'e2e-host' }).waitFor();
		assert.equal(await view.getByTestId('flame-graph').getAttribute('data-orientation'), 'flame', round);
		assert.equal(await view.getByTestId('flame-search').inputValue(), HOT, round);
		assert.equal(new URL(view.url()).searchParams.get('orient'), 'flame', round);
		if (round === 'first load') await view.reload();
	}
	// The bare link reopens the view the share was made with.
	await view.goto(`${hub!.url}/s/${id}`);
	await view.waitForURL((url) => url.searchParams.get('orient') === 'flame', { timeout: 60_000 });
	assert.equal(await view.getByTestId('flame-search').inputValue(), HOT);
	// A changed view goes into the URL and survives a reload.
	await view.getByTestId('view-table').click();
	await view.waitForURL((url) => url.searchParams.get('view') === 'table');
	await view.reload();
	assert.equal(await view.getByTestId('view-table').getAttribute('aria-pressed'), 'true');
	assert.equal(await firstFunction(view), HOT);

	// Zoom path and table order come from the link and survive a reload.
	await view.goto(`${hub!.url}/s/${id}?zoom=${encodeURIComponent(`shareapp;main;${HOT}`)}&sort=total`);
	for (const round of ['first load', 'after reload']) {
		await view.locator('.toolbar-note', { hasText: 'Zoomed:' }).filter({ hasText: HOT }).waitFor({ timeout: 60_000 });
		// By total, main (every sample) comes before the hot function.
		assert.equal(await firstFunction(view), 'main', round);
		if (round === 'first load') await view.reload();
	}
	assert.equal(new URL(view.url()).searchParams.get('zoom'), `shareapp;main;${HOT}`);

	// The share's pprof downloads without a session; the rest of the API does not answer.
	assert.equal((await view.request.get(`${hub!.url}/api/pprof?share=${id}`)).status(), 200);
	assert.equal((await view.request.get(`${hub!.url}/trpc/shares.list`)).status(), 401);
	await stranger.close();
});

test('a file dropped on the Profiles page (a real drop event with a DataTransfer) becomes a share the page opens; a bad one gets its line', async () => {
	const range = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 30_000).toISOString()}`;
	const owner = await browser!.newContext({
		extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` },
		viewport: { width: 1280, height: 900 },
	});
	const page = await owner.newPage();
	await page.goto(`${hub!.url}/profiles?${range}`);
	await firstFunction(page);
	const transfer = (name: string, text: string) =>
		page.evaluateHandle(
			({ name, text }) => {
				const data = new DataTransfer();
				data.items.add(new File([text], name, { type: 'text/plain' }));
				return data;
			},
			{ name, text },
		);
	const panel = '[data-testid="share-actions"]';
	const dropped = await transfer('dropped.folded', 'dropped;main;dropped_hot_fn 60\ndropped;main 4\n');
	// Dragging over the page: the panel says where the file goes.
	await page.dispatchEvent(panel, 'dragenter', { dataTransfer: dropped });
	await page.dispatchEvent(panel, 'dragover', { dataTransfer: dropped });
	await page.locator(panel).getByText('Drop to import').waitFor({ timeout: 60_000 });
	await page.screenshot({ path: join(RESULTS_DIR, 'import-drag-over.png') });
	await page.dispatchEvent(panel, 'drop', { dataTransfer: dropped });
	await page.waitForURL(/\/s\/[A-Za-z0-9_-]{22}$/, { timeout: 60_000 });
	assert.equal(await firstFunction(page), 'dropped_hot_fn');
	await paintedFlame(page.getByTestId('flame-graph'), (state) => state.nodes > 1);
	await page.getByText('by a holder of the hub token').waitFor({ timeout: 60_000 });
	await page.screenshot({ path: join(RESULTS_DIR, 'import-dropped-share.png') });

	await page.goto(`${hub!.url}/profiles?${range}`);
	await firstFunction(page);
	const before = await hub!.storage.shares.list();
	const junk = await transfer('junk.folded', 'this is not a profile at all');
	await page.dispatchEvent(panel, 'dragover', { dataTransfer: junk });
	await page.dispatchEvent(panel, 'drop', { dataTransfer: junk });
	const error = page.getByTestId('import-error');
	await error.waitFor({ timeout: 60_000 });
	assert.match(await error.innerText(), /^junk\.folded: .+/);
	assert.equal((await hub!.storage.shares.list()).length, before.length, 'nothing stored');
	await owner.close();
});

test("the live sandwich view has a Share action too: its link opens the same function's sandwich without a session", async () => {
	const range = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 30_000).toISOString()}`;
	const owner = await browser!.newContext({ extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` } });
	const page = await owner.newPage();
	await page.goto(`${hub!.url}/sandwich?fn=${HOT}&${range}`);
	await page.getByTestId('sandwich-totals').waitFor({ timeout: 60_000 });
	await page.getByTestId('sandwich-share').click();
	const field = page.getByTestId('sandwich-share-link');
	await field.waitFor({ timeout: 60_000 });
	const link = await field.inputValue();
	assert.match(link, new RegExp(`^${hub!.url}/s/[A-Za-z0-9_-]{22}/sandwich\\?fn=${HOT}`));
	await owner.close();

	const stranger = await browser!.newContext();
	const view = await stranger.newPage();
	await view.goto(link);
	await view.getByTestId('sandwich-totals').waitFor({ timeout: 60_000 });
	assert.equal((await view.getByTestId('sandwich-function').innerText()).split(' · ')[0], HOT);
	await paintedFlame(view.getByTestId('sandwich-callers'), (state) => state.nodes > 1);
	// Read-only: the share's sandwich offers no Share of its own, only the way back to the share.
	assert.equal(await view.getByTestId('sandwich-share').count(), 0);
	await view.screenshot({ path: join(RESULTS_DIR, 'sandwich-shared-live.png') });
	await stranger.close();
});

test('an unknown or malformed share id is the not-found page with status 404', async () => {
	const context = await browser!.newContext();
	const page = await context.newPage();
	for (const id of ['AAAAAAAAAAAAAAAAAAAAAA', 'not-a-share-id', '%00']) {
		const answer = await page.goto(`${hub!.url}/s/${id}`);
		assert.equal(answer?.status(), 404, id);
		await page.getByTestId('not-found').waitFor();
	}
	await context.close();
});
