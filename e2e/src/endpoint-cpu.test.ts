/**
 * "CPU of this endpoint" and "CPU during this request" in Chromium. Profile windows whose samples
 * carry the request labels (endpoint, requestId, ambiguous), a window of endpoint aggregates and a
 * batch of requests go in through the hub's real /ingest, as a collector with TLS capture and
 * profiling sends them. From the Requests page, the endpoint row's CPU link opens the flame graph
 * of that endpoint's samples with its share of the process's CPU; the slow request's drawer
 * opens the samples of that request, labelled ambiguous. No BPF needed: the hub runs in this
 * process (the kernel side is proven by its own known-answer test).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { REQUEST_LATENCY_BUCKETS, type ProfileWindow } from '@firesight/protocol';
import { requestRecord } from '@firesight/testing/request-records';
import { profileWindow, startFedHub, type FedHub } from './fed-hub.ts';
import { drawnFrames, paintedFlame } from './flame-frames.ts';
import { screenshot, waitFor } from './support.ts';

const HOST = 'shop-1';
const PID = 4242;
const COMM = 'usersvc';
const USERS = '/api/users/:id';
const ORDERS = '/api/orders';
const REQUEST_ID = 'e2eboot:7';
let fed: FedHub | undefined;

/**
 * Per window: getUser 60 for GET /api/users/:id, renderAvatar 20 during the slow request (while
 * another request was open on the thread: ambiguous), createOrder 40 for POST /api/orders, and
 * 80 of garbage collection no request was open for. GET /api/users/:id is 80 of the process's 200.
 */
function window(startMs: number): ProfileWindow {
	return profileWindow(
		HOST,
		startMs,
		'usersvc',
		['main', 'handleRequest', 'getUser', 'renderAvatar', 'createOrder', 'gcCollect'],
		[
			{ pid: PID, comm: COMM, stack: [0, 1, 2], weight: 60, endpoint: `GET ${USERS}` },
			{ pid: PID, comm: COMM, stack: [0, 1, 2, 3], weight: 20, endpoint: `GET ${USERS}`, requestId: REQUEST_ID, ambiguous: true },
			{ pid: PID, comm: COMM, stack: [0, 1, 4], weight: 40, endpoint: `POST ${ORDERS}` },
			{ pid: PID, comm: COMM, stack: [0, 5], weight: 80 },
		],
	);
}

function stats(method: string, endpoint: string, count: number, maxMs: number) {
	const histogram = new Array<number>(REQUEST_LATENCY_BUCKETS).fill(0);
	histogram[12] = count - 1; // 4 to 8 ms
	histogram[19] = 1; // 0.5 to 1 s: the slow one
	return {
		pid: PID,
		comm: COMM,
		role: 'server' as const,
		method,
		endpoint,
		count,
		errors: 0,
		clientErrors: 0,
		reqBytes: 100 * count,
		respBytes: 900 * count,
		sumLatencyMs: 5 * count + maxMs,
		maxLatencyMs: maxMs,
		p50Ms: 5,
		p90Ms: 7,
		p99Ms: maxMs,
		histogram,
	};
}

before(async () => {
	const now = Date.now();
	const slowTs = now - 15_000;
	fed = await startFedHub(HOST, [
		{ type: 'profile', window: window(now - 20_000) },
		{ type: 'profile', window: window(now - 10_000) },
		{
			type: 'requestWindow',
			window: {
				host: HOST,
				startMs: now - 20_000,
				durationMs: 20_000,
				processes: [],
				endpoints: [stats('GET', USERS, 50, 850), stats('POST', ORDERS, 20, 12)],
			},
		},
		{
			type: 'requests',
			batch: {
				host: HOST,
				ts: now,
				omitted: 0,
				requests: [
					requestRecord({
						ts: slowTs,
						pid: PID,
						comm: COMM,
						path: '/api/users/31337',
						endpoint: USERS,
						latencyMs: 850,
						requestId: REQUEST_ID,
					}),
				],
			},
		},
	]);
});

after(() => fed?.close());

/** The frame names drawn in the page's flame graph, as hovering them names them. */
async function frameNames(page: Page): Promise<string[]> {
	const graph = page.getByTestId('endpoint-cpu-graph');
	await paintedFlame(graph, (state) => state.nodes > 1);
	return (await drawnFrames(graph)).map((f) => f.name);
}

test('an endpoint row opens "CPU of this endpoint": its flame graph and its share of the process', async () => {
	const context = await fed!.browser.newContext({ viewport: { width: 1440, height: 1000 } });
	const page = await context.newPage();
	await page.goto(`${fed!.hub.url}/requests`);
	const row = page.getByTestId(`endpoint-row-${COMM}-server`).filter({ hasText: USERS });
	await row.waitFor({ timeout: 60_000 });
	await row.getByTestId('endpoint-cpu-link').click();
	await page.waitForURL((url) => url.pathname === '/endpoint-cpu' && url.searchParams.get('endpoint') === `GET ${USERS}`, {
		timeout: 60_000,
	});
	assert.equal(new URL(page.url()).searchParams.get('pid'), String(PID));
	assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'CPU of this endpoint');
	// 80 of the process's 200 samples in each of the two windows.
	await waitFor('the share', async () => (await page.getByTestId('endpoint-cpu-share').innerText()) !== '…', 60_000);
	assert.match(await page.getByTestId('endpoint-cpu-share').innerText(), /^40(\.0)?\s?%$/);
	assert.equal(await page.getByTestId('endpoint-cpu-samples').innerText(), '160');
	assert.match(await page.getByTestId('endpoint-cpu-ambiguous').innerText(), /^40 \(25(\.0)?\s?%\)$/);
	await page.getByTestId('endpoint-cpu-ambiguous-note').waitFor();
	const names = await frameNames(page);
	for (const name of ['usersvc', 'main', 'handleRequest', 'getUser', 'renderAvatar'])
		assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
	// Samples of another endpoint, or of no request, are not this endpoint's.
	for (const name of ['createOrder', 'gcCollect']) assert.ok(!names.includes(name), `${name} drawn`);
	await screenshot(page, 'endpoint-cpu');

	// The diff view compares two endpoints: this one against the one named in the comparison.
	await page.getByTestId('endpoint-cpu-compare').click();
	await page.waitForURL((url) => url.pathname === '/diff', { timeout: 60_000 });
	const comparison = page.getByTestId('diff-comparison-endpoint');
	await comparison.fill(`POST ${ORDERS}`);
	await comparison.press('Enter');
	await page.waitForURL((url) => (url.searchParams.get('cmp') ?? '').includes('endpoint=POST'), { timeout: 60_000 });
	const firstRegression = page.getByTestId('diff-regressions').getByTestId('diff-row').first();
	await waitFor(
		'createOrder leads the regressions',
		async () => (await firstRegression.getAttribute('data-name')) === 'createOrder',
		60_000,
	);
	assert.equal(await page.getByTestId('diff-improvements').getByTestId('diff-row').first().getAttribute('data-name'), 'getUser');
	assert.match(await page.getByTestId('diff-summary').innerText(), /endpoint GET \/api\/users\/:id[^]*endpoint POST \/api\/orders/);
	await screenshot(page, 'endpoint-cpu-diff');
	await context.close();
});

test('a slow request opens "CPU during this request": only its samples, labelled ambiguous', async () => {
	const context = await fed!.browser.newContext({ viewport: { width: 1440, height: 1000 } });
	const page = await context.newPage();
	await page.goto(`${fed!.hub.url}/requests`);
	const row = page.getByTestId(`request-row-${PID}`).first();
	await row.waitFor({ timeout: 60_000 });
	await row.click();
	const link = page.getByTestId('request-drawer').getByTestId('request-cpu-link');
	await link.click({ timeout: 60_000 });
	await page.waitForURL((url) => url.pathname === '/endpoint-cpu' && url.searchParams.get('request') === REQUEST_ID, { timeout: 60_000 });
	assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'CPU during this request');
	await waitFor('the samples', async () => (await page.getByTestId('endpoint-cpu-samples').innerText()) !== '…', 60_000);
	// The request's range covers one window: 20 of its 200 samples, all of them ambiguous.
	assert.equal(await page.getByTestId('endpoint-cpu-samples').innerText(), '20');
	assert.match(await page.getByTestId('endpoint-cpu-share').innerText(), /^10(\.0)?\s?%$/);
	assert.match(await page.getByTestId('endpoint-cpu-ambiguous-note').innerText(), /ambiguous/);
	const drawn = await frameNames(page);
	assert.ok(drawn.includes('renderAvatar'), `renderAvatar in ${drawn.join(', ')}`);
	assert.ok(!drawn.includes('createOrder'));
	await screenshot(page, 'request-cpu');
	await context.close();
});
