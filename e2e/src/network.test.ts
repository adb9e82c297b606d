/**
 * TCP retransmits end to end, against the kernel's own counter: `firesight up` (real BPF), two
 * network namespaces joined by a veth pair with an nftables rule dropping a fifth of the data
 * packets, one transfer from one to the other. The Network page must show the connection with
 * the sending process and the peer, and both it and `firesight query retransmits` must count the
 * sender namespace's TcpRetransSegs delta. Needs root; skipped without it unless
 * FIRESIGHT_REQUIRE_BPF=1, where it fails.
 */
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { bpfSkip } from '@firesight/testing/bpf-test-gate';
import { createNetnsPair, netnsUnavailableReason, waitForOutput, type NetnsPair } from '@firesight/testing/netns';
import { SINK_SCRIPT, SOURCE_SCRIPT } from '@firesight/testing/tcp-peers';
import { launchChromium } from './browser.ts';
import { FatalError, firesightBin, freePort, healthy, hostsList, screenshot, startUp, waitFor, type UpProcess } from './support.ts';

const PORT = 5201;
const BYTES = 4 << 20;
const skip = bpfSkip(netnsUnavailableReason());
const run = promisify(execFile);

let workDir: string | undefined;
let up: UpProcess | undefined;
let pair: NetnsPair | undefined;
const children: ChildProcess[] = [];
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];
let base: string;

before(async () => {
	if (skip) return;
	workDir = mkdtempSync(join(tmpdir(), 'firesight-net-'));
	base = `http://127.0.0.1:${await freePort()}`;
	const started = startUp(Number(new URL(base).port), join(workDir, 'data'), ['--window', '2s']);
	up = started;
	pair = createNetnsPair();
	browser = await launchChromium();
	page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
	page.on('pageerror', (error) => pageErrors.push(error.message));
	page.on('console', (message) => {
		if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
	});
	await waitFor(
		'firesight up to serve /healthz',
		async () => {
			if (started.child.exitCode !== null) throw new FatalError(`firesight up exited with ${started.child.exitCode}:\n${started.output()}`);
			return healthy(base);
		},
		30_000,
		200,
	);
	// The hub answers before its collector runs: a connection made before TCP tracing attached has
	// no owner (its connect() went unseen), and the page would list it under no pid.
	await waitFor(
		"the collector's TCP tracing attached",
		async () => {
			const hosts = await hostsList(base);
			return hosts.some((h) => h.features?.running.includes('tcp')) ? true : null;
		},
		60_000,
		200,
	);
});

after(async () => {
	for (const child of children) child.kill('SIGKILL');
	pair?.remove();
	await browser?.close();
	await up?.stop();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** Opens /network and waits for the connection table (the first table arrives within a second or two). */
async function openNetworkPage(t: TestContext): Promise<void> {
	await page.goto(`${base}/network`);
	try {
		await page.locator('[data-testid="connection-table"]').waitFor();
	} catch (err) {
		const shot = await screenshot(page, 'network-no-table');
		t.diagnostic(`no connection table (screenshot ${shot}); page errors: ${pageErrors.join(' | ') || 'none'}`);
		t.diagnostic(`firesight up output so far:\n${up?.output().slice(-4000)}`);
		throw err;
	}
}

/** The number in the connection's Retransmits cell, or null while the row is absent. */
async function shownRetransmits(rowSelector: string): Promise<number | null> {
	const row = page.locator(rowSelector);
	if ((await row.count()) === 0) return null;
	const text = await row.first().locator('[data-testid="connection-retransmits"]').textContent();
	return Number((text ?? '').replace(/,/g, ''));
}

test('a lossy transfer shows on the Network page and in query retransmits with the kernel counter', { skip }, async (t) => {
	assert.ok(pair && up);
	const p = pair;
	const sink = p.spawn(p.server, process.execPath, ['-e', SINK_SCRIPT, p.serverAddr, String(PORT)]);
	children.push(sink);
	await waitForOutput(sink, 'listening');
	p.nft(
		p.server,
		`
		table inet lossy {
			chain input {
				type filter hook input priority 0; policy accept;
				tcp dport ${PORT} meta length > 200 numgen random mod 100 < 20 drop
			}
		}`,
	);
	await openNetworkPage(t);

	const before = p.tcpCounters(p.client).RetransSegs!;
	const startedAt = Date.now();
	const source = p.spawn(p.client, process.execPath, ['-e', SOURCE_SCRIPT, p.serverAddr, String(PORT), '1', String(BYTES), '0']);
	children.push(source);
	const pid = source.pid!;
	// Listened for now: the exit can come before `done` is awaited.
	const exited = once(source, 'exit');
	// Generous: a segment lost again and again doubles its retransmission timer each time.
	const done = waitForOutput(source, 'done', 120_000);
	const rowSelector = `[data-testid^="connection-row-${pid}-${PORT}-"]`;

	// (a) The row appears, owned by the sender, with the peer; how fast is bench/live-latency.ts's business.
	await page
		.locator(rowSelector)
		.first()
		.waitFor()
		.catch(async (err: unknown) => {
			// What the page showed instead, to tell a missing row from a page that stopped updating.
			const shot = await screenshot(page, 'network-no-row');
			const shown = await page
				.locator('[data-testid^="connection-row-"]')
				.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-testid')));
			t.diagnostic(
				`no row for pid ${pid} (screenshot ${shot}); rows shown: ${shown.join(' ')}; page errors: ${pageErrors.join(' | ') || 'none'}`,
			);
			t.diagnostic(`firesight up output so far:\n${up?.output().slice(-4000)}`);
			throw err;
		});
	const seenAfter = Date.now() - startedAt;
	const row = page.locator(rowSelector).first();
	assert.match((await row.textContent()) ?? '', /node/);
	assert.equal(await row.locator('[data-testid="connection-remote"]').textContent(), `${p.serverAddr}:${PORT}`);
	await screenshot(page, 'network-live');

	await done;
	await exited;
	const kernelDelta = p.tcpCounters(p.client).RetransSegs! - before;
	assert.ok(kernelDelta > 0, 'the loss rule caused retransmits');
	const shown = await waitFor(
		'the page to show the kernel count',
		async () => {
			const n = await shownRetransmits(rowSelector);
			return n === kernelDelta ? n : null;
		},
		30_000,
		250,
	).catch(async (err) => {
		throw new Error(`page shows ${await shownRetransmits(rowSelector)}, kernel ${kernelDelta}: ${(err as Error).message}`);
	});
	assert.equal(shown, kernelDelta);
	await screenshot(page, 'network-done');

	// (b) The stored windows (2 s here) agree once the last one reaches the hub.
	const bin = firesightBin;
	let lines: Array<Record<string, unknown>> = [];
	const stored = await waitFor(
		'query retransmits to report the kernel count',
		async () => {
			const { stdout } = await run(process.execPath, [bin, 'query', 'retransmits', '--since', '5m', '--json', '--hub', base]);
			lines = stdout
				.split('\n')
				.filter(Boolean)
				.map((l) => JSON.parse(l) as Record<string, unknown>);
			const mine = lines.find((l) => l.pid === pid && l.dport === PORT);
			return mine && mine.retransmits === kernelDelta ? mine : null;
		},
		30_000,
		500,
	).catch((err) => {
		throw new Error(`query retransmits printed ${JSON.stringify(lines)}, kernel ${kernelDelta}: ${(err as Error).message}`);
	});
	assert.deepEqual(
		Object.keys(stored).sort(),
		['comm', 'daddr', 'dport', 'family', 'firstRetransmitAt', 'lastRetransmitAt', 'pid', 'retransmits', 'saddr', 'sport', 'state'].sort(),
	);
	assert.equal(stored.comm, 'node');
	assert.equal(stored.family, 4);
	assert.equal(stored.saddr, p.clientAddr);
	assert.equal(stored.daddr, p.serverAddr);
	assert.ok(
		typeof stored.firstRetransmitAt === 'number' &&
			typeof stored.lastRetransmitAt === 'number' &&
			stored.lastRetransmitAt >= stored.firstRetransmitAt,
	);

	// The chart of stored series draws once a window holds retransmits.
	await page.locator('[data-testid="chart-processes"]').waitFor();
	await screenshot(page, 'network-chart');
	// Nothing lost on the way from the kernel: the tracer's loss counters reach the hub as drops.
	const hosts = await hostsList(base);
	const tcpDrops = Object.fromEntries(Object.entries(hosts[0]?.drops ?? {}).filter(([k]) => k.startsWith('tcp.')));
	assert.ok('tcp.ringBufferFull' in tcpDrops, `tcp drop counters reported: ${JSON.stringify(tcpDrops)}`);
	assert.equal(tcpDrops['tcp.ringBufferFull'], 0);
	assert.equal(tcpDrops['tcp.eventsDropped'], 0);
	t.diagnostic(`tcp drops ${JSON.stringify(tcpDrops)}; all drops ${JSON.stringify(hosts[0]?.drops)}`);
	t.diagnostic(`row after ${seenAfter} ms; kernel TcpRetransSegs delta ${kernelDelta}, page ${shown}, query ${String(stored.retransmits)}`);
});
