/**
 * "CPU during this request" for a slow request whose attribution was ambiguous: other requests
 * were open on its event-loop thread while it ran, so the page shows its thread's CPU during its
 * lifetime, labelled ambiguous, beside its own samples and the most that may come from after it
 * ended. The samples go in through the hub's real /ingest as the collector labels them (an
 * ambiguous sample's requestId lists the slow requests whose lifetime may hold it; `+` marks
 * those it may come after). No BPF needed: the labelling has its own tests.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ProfileWindow } from '@firesight/protocol';
import { profileWindow, startFedHub, type FedHub } from './fed-hub.ts';
import { screenshot, waitFor } from './support.ts';

const HOST = 'shop-1';
const PID = 4343;
const COMM = 'usersvc';
const SLOW = 'e2eboot:7';
const NEXT = 'e2eboot:8';
let fed: FedHub | undefined;

/**
 * Request 7 (GET /api/users/:id, slow) ran alone for 12 samples; then request 8 (POST
 * /api/orders) was read on the same thread and outlived it: 9 samples stamped 7 and 6 stamped 8
 * while both were open, which may come from after 7 ended. 30 samples of 8 alone, and 43 of
 * no request, are not 7's.
 */
function window(startMs: number): ProfileWindow {
	return profileWindow(
		HOST,
		startMs,
		'usersvc',
		['main', 'handleRequest', 'getUser', 'createOrder', 'gcCollect'],
		[
			{ pid: PID, comm: COMM, stack: [0, 1, 2], weight: 12, endpoint: 'GET /api/users/:id', requestId: SLOW },
			{ pid: PID, comm: COMM, stack: [0, 1, 2], weight: 9, endpoint: 'GET /api/users/:id', requestId: SLOW, ambiguous: true },
			{ pid: PID, comm: COMM, stack: [0, 1, 3], weight: 6, endpoint: 'POST /api/orders', requestId: `${SLOW}+ ${NEXT}`, ambiguous: true },
			{ pid: PID, comm: COMM, stack: [0, 1, 3], weight: 30, endpoint: 'POST /api/orders', requestId: NEXT },
			{ pid: PID, comm: COMM, stack: [0, 4], weight: 43 },
		],
	);
}

before(async () => {
	fed = await startFedHub(HOST, [{ type: 'profile', window: window(Date.now() - 20_000) }]);
});

after(() => fed?.close());

test('a slow ambiguous request shows its thread’s CPU during its lifetime, labelled so, beside its own samples', async () => {
	const context = await fed!.browser.newContext({ viewport: { width: 1440, height: 1000 } });
	const page = await context.newPage();
	const params = new URLSearchParams({ endpoint: 'GET /api/users/:id', request: SLOW, host: HOST, pid: String(PID), range: '15m' });
	await page.goto(`${fed!.hub.url}/endpoint-cpu?${params.toString()}`);
	assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'CPU during this request');
	await waitFor('the samples', async () => (await page.getByTestId('endpoint-cpu-samples').innerText()) !== '…', 60_000);
	// Its own 12, and 9 + 6 while request 8 was open too; 8's own and the idle ones are left out.
	assert.equal(await page.getByTestId('endpoint-cpu-samples').innerText(), '27');
	const card = async (id: string) => (await page.getByTestId(id).innerText()).trim();
	assert.equal(await card('endpoint-cpu-exact'), '12');
	assert.equal(await card('endpoint-cpu-lifetime-samples'), '27');
	assert.equal(await card('endpoint-cpu-may-be-after'), 'up to 6');
	const note = await page.getByTestId('endpoint-cpu-ambiguous-note').innerText();
	assert.match(note, /ambiguous/);
	assert.match(note, /CPU of its thread during its lifetime/);
	assert.match(note, /may include up to 6 samples from after it ended/);
	assert.match(await page.getByRole('region', { name: 'Flame graph' }).innerText(), /CPU of its thread during its lifetime/);
	await page.getByTestId('endpoint-cpu-graph').waitFor();
	await screenshot(page, 'request-lifetime-cpu');
	// Beside it, its own samples alone: the exact attribution.
	await page.getByTestId('endpoint-cpu-view-own').click();
	await waitFor('its own samples', async () => (await page.getByTestId('endpoint-cpu-samples').innerText()) === '12', 60_000);
	assert.match(await page.getByRole('region', { name: 'Flame graph' }).innerText(), /Its own samples \(exact\)/);
	assert.equal(await card('endpoint-cpu-lifetime-samples'), '27', 'the split stays');
	await screenshot(page, 'request-own-cpu');
	await context.close();
});
