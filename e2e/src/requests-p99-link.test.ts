/**
 * "CPU during this request" for a request slow by its endpoint's p99 but under SLOW_REQUEST_MS.
 * The collector labels the samples of a request at or above its window's p99 for its process and
 * endpoint (`isSlowRequest`), so the drawer links such a request too, with the p99 the page reads
 * from the Endpoints range's latency histograms. A 150 ms request over a p99 near 32 ms opens the
 * samples labelled with its id; a 20 ms one of the same endpoint gets no link. No BPF needed: the
 * data goes in through the hub's real /ingest, as a collector sends it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SLOW_REQUEST_MS, type RequestRecord } from '@firesight/protocol';
import { endpointStats, latencyHistogram, requestRecord } from '@firesight/testing/request-records';
import { profileWindow, startFedHub, type FedHub } from './fed-hub.ts';
import { screenshot, waitFor } from './support.ts';

const HOST = 'shop-3';
const PID = 4646;
const COMM = 'usersvc';
const USERS = '/api/users/:id';
const SLOW = 150;
const FAST = 20;
let fed: FedHub | undefined;

function request(ts: number, latencyMs: number): RequestRecord {
	return requestRecord({
		ts,
		pid: PID,
		comm: COMM,
		path: `/api/users/${latencyMs}`,
		endpoint: USERS,
		latencyMs,
		reqBytes: 120,
		respBytes: 4000,
		local: '127.0.0.1:8443',
		remote: '127.0.0.1:50125',
		connection: `${PID}:9:1`,
		requestId: `e2eboot:${latencyMs}`,
		requestHeaders: [['host', 'shop']],
	});
}

before(async () => {
	const now = Date.now();
	// 30 samples labelled with the 150 ms request, 50 of its endpoint unlabelled, 20 of no request.
	const window = profileWindow(
		HOST,
		now - 20_000,
		COMM,
		['main', 'getUser', 'resizeAvatar', 'gcCollect'],
		[
			{ pid: PID, comm: COMM, stack: [0, 1, 2], weight: 30, endpoint: `GET ${USERS}`, requestId: `e2eboot:${SLOW}` },
			{ pid: PID, comm: COMM, stack: [0, 1], weight: 50, endpoint: `GET ${USERS}` },
			{ pid: PID, comm: COMM, stack: [0, 3], weight: 20 },
		],
	);
	// 100 requests in the window: 99 of 16 to 32 ms and the 150 ms one, so the p99 ends bucket 14.
	const users = endpointStats({
		pid: PID,
		comm: COMM,
		endpoint: USERS,
		count: 100,
		reqBytes: 12_000,
		respBytes: 400_000,
		sumLatencyMs: 99 * 24 + SLOW,
		maxLatencyMs: SLOW,
		p50Ms: 24,
		p90Ms: 30,
		p99Ms: 31,
		histogram: latencyHistogram({ 14: 99, 17: 1 }),
	});
	fed = await startFedHub(HOST, [
		{ type: 'profile', window },
		{ type: 'requestWindow', window: { host: HOST, startMs: now - 20_000, durationMs: 10_000, processes: [], endpoints: [users] } },
		{
			type: 'requests',
			batch: { host: HOST, ts: now, omitted: 0, requests: [request(now - 16_000, FAST), request(now - 15_000, SLOW)] },
		},
	]);
});

after(async () => {
	await fed?.close();
});

test('a request at or above its endpoint’s p99 but under SLOW_REQUEST_MS links to its CPU; one below does not', async () => {
	assert.ok(SLOW < SLOW_REQUEST_MS, 'the slow request is under the fixed threshold');
	const context = await fed!.browser.newContext({ viewport: { width: 1440, height: 900 } });
	const page = await context.newPage();
	await page.goto(`${fed!.hub.url}/requests`);
	const drawer = page.getByTestId('request-drawer');
	const p99 = drawer.getByTestId('request-drawer-p99');

	// 20 ms, under the p99: its samples merged into its endpoint's. The p99 shown first, so the
	// missing link is the rule's answer, not a page still loading.
	await page
		.getByTestId(`request-row-${PID}`)
		.filter({ hasText: `/api/users/${FAST}` })
		.first()
		.click({ timeout: 60_000 });
	await drawer.filter({ hasText: `/api/users/${FAST}` }).waitFor({ timeout: 60_000 });
	await p99.waitFor({ timeout: 60_000 });
	const shown = Number(/([\d.]+) ms/.exec(await p99.innerText())?.[1]);
	assert.ok(shown > FAST && shown < SLOW, `the endpoint's p99 (${await p99.innerText()}) lies between the two requests`);
	assert.equal(await drawer.getByTestId('request-cpu-link').count(), 0);
	await page.getByTestId('request-drawer-close').click();

	// 150 ms, over the p99: the collector labelled its samples, and the drawer links them.
	await page
		.getByTestId(`request-row-${PID}`)
		.filter({ hasText: `/api/users/${SLOW}` })
		.first()
		.click();
	await drawer.filter({ hasText: `/api/users/${SLOW}` }).waitFor({ timeout: 60_000 });
	const link = drawer.getByTestId('request-cpu-link');
	await link.waitFor({ timeout: 60_000 });
	await screenshot(page, 'request-p99-link');
	await link.click();
	await page.waitForURL((url) => url.pathname === '/endpoint-cpu' && url.searchParams.get('request') === `e2eboot:${SLOW}`, {
		timeout: 60_000,
	});
	assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'CPU during this request');
	const samples = page.getByTestId('endpoint-cpu-samples');
	await waitFor('the samples', async () => (await samples.innerText()) !== '…', 60_000);
	assert.equal(await samples.innerText(), '30');
	await context.close();
});
