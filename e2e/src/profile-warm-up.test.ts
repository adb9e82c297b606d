/**
 * The whole-host profiler's warm-up (the running processes' unwind tables load before its first
 * window) is told to the hub and shown on the Profiles page, not left for an empty flame graph to
 * read as "no data" (and on the endpoint CPU, diff and sandwich pages). A real collector: its log says when the warm-up starts and ends, and browsers
 * on /live get its host's status with the warm-up, then without it. The page: a collector
 * connection that reports a warm-up as long as the test needs it, then its end.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { PROTOCOL_VERSION, statusMessageSchema, type HostStatus, type LiveStats } from '@firesight/protocol';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { startHub } from '@firesight/web/server';
import { launchChromium } from './browser.ts';
import { firesightBin, freePort, screenshot, waitFor } from './support.ts';

const TOKEN = 'e2e-warm-up-token-0123';
const START_LINE = 'loading the unwind tables of the running processes before the first window';
const END_LINE = /unwind tables loaded in \d+\.\d s, sampling/;

/** Every status a browser on /live is sent, in order. */
async function watchStatus(url: string): Promise<{ statuses: HostStatus[][]; close(): void }> {
	const statuses: HostStatus[][] = [];
	const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/live`, { headers: { authorization: `Bearer ${TOKEN}` } });
	ws.on('message', (data) => {
		const parsed = statusMessageSchema.safeParse(JSON.parse(data.toString()));
		if (parsed.success) statuses.push(parsed.data.hosts);
	});
	await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
	return { statuses, close: () => ws.close() };
}

test("a real collector's profiler warm-up: logged at its start and end, and its host's status says so until it ends", async (t) => {
	if (!skipUnlessBpf(t)) return;
	const dir = mkdtempSync(join(tmpdir(), 'firesight-e2e-warm-up-'));
	const hub = await startHub({
		listen: { host: '127.0.0.1', port: await freePort() },
		dataDir: dir,
		token: TOKEN,
		web: false,
		log: () => {},
	});
	const live = await watchStatus(hub.url);
	let log = '';
	const collector = spawn(process.execPath, [firesightBin, 'collector', '--hub', hub.url, '--token', TOKEN, '--host', 'warm-host'], {
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	collector.stdout.on('data', (d: Buffer) => (log += d.toString()));
	collector.stderr.on('data', (d: Buffer) => (log += d.toString()));
	try {
		const of = (hosts: HostStatus[]) => hosts.find((h) => h.host === 'warm-host');
		// The collector's first live stats leave at its start, while the tables load: the warm-up is there.
		const warming = await waitFor(
			'a status with the warm-up',
			async () => live.statuses.map(of).find((h) => h?.warmingUp?.some((w) => w.feature === 'profile')),
			120_000,
		);
		const w = warming.warmingUp!.find((x) => x.feature === 'profile')!;
		assert.ok(w.sinceMs > 0 && w.sinceMs <= Date.now(), JSON.stringify(w));
		assert.equal(typeof w.tablesLoaded, 'number');
		// Then it ends (30 s at most), for a host still connected.
		const at = live.statuses.findIndex((hosts) => of(hosts) === warming);
		await waitFor(
			'a later status without the warm-up',
			async () => live.statuses.slice(at + 1).some((hosts) => of(hosts)?.connected === true && !of(hosts)?.warmingUp),
			120_000,
		);
		// The log said both, in order (the end is logged at the tick that reports it).
		await waitFor('the end in the log', async () => END_LINE.test(log), 60_000);
		const start = log.indexOf(START_LINE);
		assert.ok(start >= 0, `no start line in the log:\n${log}`);
		assert.ok(start < log.search(END_LINE), `the end was logged before the start:\n${log}`);
	} finally {
		collector.kill('SIGTERM');
		await new Promise((r) => collector.once('exit', r));
		live.close();
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	}
});

test('the Profiles page says which host is warming up while it does, then shows the profile; the endpoint CPU, diff and sandwich pages say so too', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-e2e-warm-up-page-'));
	const hub = await startHub({
		listen: { host: '127.0.0.1', port: await freePort() },
		dataDir: dir,
		token: TOKEN,
		auth: true,
		log: () => {},
	});
	const browser = await launchChromium();
	const ingest = new WebSocket(`${hub.url.replace(/^http/, 'ws')}/ingest`, { headers: { authorization: `Bearer ${TOKEN}` } });
	try {
		await new Promise<void>((resolve, reject) => (ingest.once('open', () => resolve()), ingest.once('error', reject)));
		const sinceMs = Date.now();
		ingest.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, host: 'warm-host', version: 'test', frequencyHz: 99 }));
		const stats = (extra: Partial<LiveStats>): string =>
			JSON.stringify({
				type: 'live',
				stats: {
					host: 'warm-host',
					ts: Date.now(),
					frequencyHz: 99,
					processes: [],
					drops: {},
					features: { running: ['profile'], failed: [] },
					...extra,
				},
			});
		// As long as the page needs it: a status every second, as a collector sends its live stats.
		let warmUp: LiveStats['warmingUp'] = [{ feature: 'profile', sinceMs, tablesLoaded: 17, processesQueued: 3 }];
		const beat = setInterval(() => ingest.send(stats({ warmingUp: warmUp })), 1000);
		ingest.send(stats({ warmingUp: warmUp }));
		try {
			const context = await browser.newContext({
				extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` },
				viewport: { width: 1280, height: 900 },
			});
			const page = await context.newPage();
			await page.goto(`${hub.url}/profiles`, { timeout: 120_000 });
			const empty = page.getByTestId('profile-empty');
			await empty.getByText('The CPU profiler on warm-host is warming up').waitFor({ timeout: 120_000 });
			const progress = await page.getByTestId('profile-warm-up').textContent();
			assert.match(progress ?? '', /^since \d\d:\d\d:\d\d · 17 unwind tables loaded · 3 processes to read$/);
			await screenshot(page, 'profiles-warm-up');
			// The other pages drawn from the host's samples say so too, with the same words.
			for (const [name, path] of [
				['endpoint-cpu', `/endpoint-cpu?endpoint=${encodeURIComponent('GET /api/items')}`],
				['diff', '/diff'],
				['sandwich', '/sandwich?fn=main'],
			] as const) {
				await page.goto(`${hub.url}${path}`, { timeout: 120_000 });
				const notice = page.getByTestId('profile-warm-up');
				await notice.getByText('The CPU profiler on warm-host is warming up').waitFor({ timeout: 120_000 });
				assert.match((await notice.textContent()) ?? '', /\(since \d\d:\d\d:\d\d · 17 unwind tables loaded · 3 processes to read\)/, name);
				await screenshot(page, `${name}-warm-up`);
			}
			await page.goto(`${hub.url}/profiles`, { timeout: 120_000 });
			await empty.getByText('The CPU profiler on warm-host is warming up').waitFor({ timeout: 120_000 });

			// The warm-up ends and the first window arrives: the page says so no more and draws it.
			warmUp = [];
			ingest.send(stats({}));
			const window = {
				host: 'warm-host',
				startMs: Date.now() - 5_000,
				durationMs: 5_000,
				frequencyHz: 99,
				frames: [
					{ name: 'main', module: 'app', kind: 'user' },
					{ name: 'after_warm_up', module: 'app', kind: 'user' },
				],
				samples: [{ pid: 7, comm: 'app', stack: [0, 1], weight: 40 }],
			};
			ingest.send(JSON.stringify({ type: 'profile', window }));
			await page.getByTestId('profile-warm-up').waitFor({ state: 'detached', timeout: 120_000 });
			await page.getByTestId('flame-canvas').waitFor({ timeout: 120_000 });
			await context.close();
		} finally {
			clearInterval(beat);
		}
	} finally {
		ingest.close();
		await browser.close();
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	}
});
