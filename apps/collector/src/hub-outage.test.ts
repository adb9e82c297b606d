import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { totalWeight } from '@firesight/profile';
import { ingestCloseCodes, type ProfileWindow } from '@firesight/protocol';
import { openStorage } from '@firesight/store';
import { clickhouseRequired, clickhouseStatement, startClickhouse } from '@firesight/testing/clickhouse-server';
import { startHub } from '@firesight/web/server';
import { WebSocket, WebSocketServer } from 'ws';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { freePort } from '@firesight/testing/free-port';
import { HubStream } from './hub-stream.ts';

/**
 * The hub as its own process, killed, stopped and restarted under a streaming collector: after
 * the reconnection and the replay every window is stored exactly once.
 */

const BIN = fileURLToPath(new URL('../bin/firesight.js', import.meta.url));
const TOKEN = 'outage-token-0123456789';
const T0 = 1_700_000_000_000;
/** Windows start 2 s apart and last 1 s, so a query of one window's second finds only it. */
const STEP_MS = 2000;

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await cond())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 25));
	}
}

/** `firesight hub` as a child process on a fixed port and data directory. */
class HubProcess {
	child: ChildProcessByStdio<null, Readable, Readable> | undefined;
	log = '';
	constructor(
		readonly port: number,
		readonly dir: string,
		/** More hub flags, such as `--store`. */
		readonly extra: string[] = [],
	) {}

	get url(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	async start(): Promise<void> {
		const child = spawn(
			process.execPath,
			[BIN, 'hub', '--api-only', '--listen', `127.0.0.1:${this.port}`, '--data', this.dir, '--token', TOKEN, ...this.extra],
			{
				stdio: ['ignore', 'pipe', 'pipe'],
			},
		);
		this.child = child;
		child.stdout.on('data', (d) => (this.log += d));
		child.stderr.on('data', (d) => (this.log += d));
		await until('the hub to answer', async () => {
			if (child.exitCode !== null) throw new Error(`hub exited with ${child.exitCode}: ${this.log}`);
			try {
				return (await fetch(`${this.url}/healthz`)).ok;
			} catch {
				return false;
			}
		});
	}

	signal(sig: NodeJS.Signals): void {
		this.child?.kill(sig);
	}

	async stop(sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
		const child = this.child;
		if (!child || child.exitCode !== null || child.signalCode !== null) return;
		const exited = new Promise((r) => child.once('exit', r));
		child.kill('SIGCONT');
		child.kill(sig);
		await exited;
	}

	async metric(name: string): Promise<number> {
		const text = await (await fetch(`${this.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
		const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
		return m ? Number(m[1]) : 0;
	}
}

function windowAt(host: string, i: number): ProfileWindow {
	return {
		host,
		startMs: T0 + i * STEP_MS,
		durationMs: 1000,
		frequencyHz: 99,
		frames: [
			{ name: 'main', module: 'app', kind: 'user' },
			{ name: `work${i % 7}`, module: 'app', kind: 'user' },
		],
		samples: [{ pid: 100 + (i % 3), comm: 'app', stack: [0, 1], weight: i + 1 }],
	};
}

function streamTo(hub: HubProcess, host: string, spoolDir?: string): HubStream {
	return new HubStream({
		hub: hub.url,
		token: TOKEN,
		hello: { host, version: 'test', frequencyHz: 99 },
		...(spoolDir ? { spool: { dir: spoolDir } } : {}),
		initialBackoffMs: 50,
		maxBackoffMs: 500,
		pingIntervalMs: 200,
		pingDeadlineMs: 1000,
	});
}

/** Every window i < n of the host is stored once with its own count: nothing lost, nothing doubled. */
async function assertStoredOnce(dir: string, host: string, n: number): Promise<void> {
	const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir: dir, token: TOKEN, web: false, log: () => {} });
	try {
		const wrong: string[] = [];
		for (let i = 0; i < n; i++) {
			const from = T0 + i * STEP_MS;
			const r = await hub.storage.profiles.query({ fromMs: from, toMs: from + 1000, host });
			const count = totalWeight(r.profile);
			if (r.windows !== 1 || count !== i + 1) wrong.push(`window ${i}: ${r.windows} stored, ${count} samples (made ${i + 1})`);
		}
		const all = await hub.storage.profiles.query({ fromMs: 0, toMs: 2 ** 50, host });
		assert.deepEqual(wrong, [], wrong.slice(0, 5).join('; '));
		assert.equal(all.windows, n);
		assert.equal(totalWeight(all.profile), (n * (n + 1)) / 2);
	} finally {
		await hub.close();
	}
}

/**
 * Streams `n` windows, one every few milliseconds, and runs `outage` once `atAcked` of them are
 * acknowledged; returns once every window is acknowledged.
 */
async function streamThrough(stream: HubStream, host: string, n: number, atAcked: number, outage: () => Promise<void>): Promise<void> {
	let made = 0;
	const feeding = (async () => {
		while (made < n) {
			stream.send({ type: 'profile', window: windowAt(host, made++) });
			stream.send({ type: 'live', stats: { host, ts: Date.now(), frequencyHz: 99, processes: [], drops: {} } });
			await new Promise((r) => setTimeout(r, 5));
		}
	})();
	await until(`${atAcked} acknowledged windows`, () => stream.counters.acked >= atAcked);
	await outage();
	await feeding;
	await until('every window acknowledged', () => stream.counters.acked >= n && stream.counters.spooled === 0, 120_000);
	assert.equal(stream.counters.dropped.window, 0);
}

test('the hub killed (-9) mid-stream and restarted: every window stored exactly once', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-outage-'));
	const hub = new HubProcess(await freePort(), dir);
	await hub.start();
	const stream = streamTo(hub, 'kill9-host');
	const n = 400;
	try {
		await streamThrough(stream, 'kill9-host', n, 30, async () => {
			const killedAt = stream.counters.sent.window;
			await hub.stop('SIGKILL');
			await until('the stream to notice', () => !stream.counters.connected);
			// The outage spans windows made while the hub is away.
			await until('windows made during the outage', () => stream.counters.spooled >= 50 || stream.counters.sent.window > killedAt + 200);
			await hub.start();
		});
		assert.ok(stream.counters.connects >= 2, 'the stream reconnected');
		await stream.close();
		await hub.stop();
		await assertStoredOnce(dir, 'kill9-host', n);
	} finally {
		await stream.close();
		await hub.stop('SIGKILL');
		rmSync(dir, { recursive: true, force: true });
	}
});

test('a hung hub (SIGSTOP) past the ping deadline, then resumed: what it read meanwhile is not stored twice', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-outage-'));
	const hub = new HubProcess(await freePort(), dir);
	await hub.start();
	const stream = streamTo(hub, 'stop-host');
	const n = 300;
	try {
		await streamThrough(stream, 'stop-host', n, 30, async () => {
			hub.signal('SIGSTOP');
			await until('the ping deadline to drop the hung hub', () => stream.counters.hubSilent >= 1);
			hub.signal('SIGCONT');
		});
		// The hung hub read windows off its old socket when it resumed, and the stream sent them again.
		assert.ok(
			(await hub.metric('firesight_hub_messages_replayed_total')) > 0,
			'some windows came twice and were acknowledged without a second insert',
		);
		await stream.close();
		await hub.stop();
		await assertStoredOnce(dir, 'stop-host', n);
	} finally {
		await stream.close();
		await hub.stop('SIGKILL');
		rmSync(dir, { recursive: true, force: true });
	}
});

test('a hung hub (SIGSTOP) past the ping deadline, then killed (-9) and restarted: nothing lost', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-outage-'));
	const hub = new HubProcess(await freePort(), dir);
	await hub.start();
	const stream = streamTo(hub, 'stopkill-host');
	const n = 300;
	try {
		await streamThrough(stream, 'stopkill-host', n, 30, async () => {
			hub.signal('SIGSTOP');
			await until('the ping deadline to drop the hung hub', () => stream.counters.hubSilent >= 1);
			await hub.stop('SIGKILL');
			await hub.start();
		});
		await stream.close();
		await hub.stop();
		await assertStoredOnce(dir, 'stopkill-host', n);
	} finally {
		await stream.close();
		await hub.stop('SIGKILL');
		rmSync(dir, { recursive: true, force: true });
	}
});

test('the disk spool survives a collector restart: windows made while the hub was down arrive once', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-outage-'));
	const spoolDir = mkdtempSync(join(tmpdir(), 'firesight-spool-'));
	const hub = new HubProcess(await freePort(), dir);
	let stream: HubStream | undefined;
	try {
		// No hub yet: the first run spools 40 windows and stops.
		stream = streamTo(hub, 'spool-host', spoolDir);
		for (let i = 0; i < 40; i++) stream.send({ type: 'profile', window: windowAt('spool-host', i) });
		await stream.close(0);
		assert.equal(stream.counters.dropped.window, 0);
		assert.ok(
			readdirSync(spoolDir).some((f) => f.endsWith('.jsonl')),
			'the windows are on disk',
		);

		// The next run finds them, adds its own, and sends all once the hub is up.
		await hub.start();
		stream = streamTo(hub, 'spool-host', spoolDir);
		assert.equal(stream.counters.spooled, 40);
		for (let i = 40; i < 60; i++) stream.send({ type: 'profile', window: windowAt('spool-host', i) });
		await until('every window acknowledged', () => stream!.counters.spooled === 0);
		assert.deepEqual(
			readdirSync(spoolDir).filter((f) => f.endsWith('.jsonl')),
			[],
			'acknowledged segments are deleted',
		);
		await stream.close();
		await hub.stop();
		await assertStoredOnce(dir, 'spool-host', 60);
	} finally {
		await stream?.close();
		await hub.stop('SIGKILL');
		rmSync(dir, { recursive: true, force: true });
		rmSync(spoolDir, { recursive: true, force: true });
	}
});

test('a second collector claiming a connected host name is refused with a reason, and gets in once the first is gone', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-outage-'));
	const hub = new HubProcess(await freePort(), dir);
	await hub.start();
	const first = streamTo(hub, 'same-host');
	let second: HubStream | undefined;
	try {
		await until('the first collector', () => first.counters.connected);
		const logs: string[] = [];
		second = new HubStream({
			hub: hub.url,
			token: TOKEN,
			hello: { host: 'same-host', version: 'test', frequencyHz: 99 },
			initialBackoffMs: 50,
			maxBackoffMs: 300,
			log: (line) => logs.push(line),
		});
		const [code, reason] = await new Promise<[number, string]>((resolve) => second!.once('refused', (c, r) => resolve([c, r])));
		assert.equal(code, ingestCloseCodes.hostInUse);
		assert.match(reason, /host name 'same-host' is in use by another collector/);
		assert.ok(
			logs.some((l) => /refused this collector: host name 'same-host' is in use/.test(l)),
			logs.join('\n'),
		);
		await until('the hub to log the refusal', () => /collector refused: host name 'same-host' is in use/.test(hub.log));
		// The first streams on undisturbed; nothing of the second was stored under its name.
		first.send({ type: 'profile', window: windowAt('same-host', 0) });
		second.send({ type: 'profile', window: windowAt('same-host', 1) });
		await until("the first one's window", () => first.counters.acked === 1);
		assert.equal(second.counters.acked, 0);

		// Refused, it retries quietly: no "connected" for a connection the hub closes at once.
		const refusedAt = logs.findIndex((l) => /refused this collector/.test(l));
		await until('a few refused attempts', () => second!.counters.connects >= 3);
		assert.deepEqual(
			logs.slice(refusedAt + 1).filter((l) => /connected to/.test(l)),
			[],
			logs.join('\n'),
		);

		await first.close();
		await until('the second once the first is gone', () => second!.counters.acked === 1, 60_000);
		assert.ok(
			logs.slice(refusedAt + 1).some((l) => /connected to .*: the hub took this collector after refusing it/.test(l)),
			logs.join('\n'),
		);
	} finally {
		await first.close();
		await second?.close();
		await hub.stop('SIGKILL');
		rmSync(dir, { recursive: true, force: true });
	}
});

test('a real collector through a hub killed (-9) and restarted: the windows it says it made are the windows stored', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const dir = mkdtempSync(join(tmpdir(), 'firesight-outage-'));
	const spoolDir = mkdtempSync(join(tmpdir(), 'firesight-spool-'));
	const hub = new HubProcess(await freePort(), dir);
	await hub.start();
	const collector = spawn(
		process.execPath,
		[BIN, 'collector', '--hub', hub.url, '--token', TOKEN, '--host', 'real-host', '--window', '1s', '--spool', spoolDir],
		{ stdio: ['ignore', 'pipe', 'pipe'] },
	);
	let log = '';
	collector.stdout.on('data', (d) => (log += d));
	collector.stderr.on('data', (d) => (log += d));
	const exited = new Promise<number | null>((r) => collector.once('exit', (code) => r(code)));
	try {
		const windows = () => hub.metric('firesight_hub_windows_ingested_total');
		// The collector's start (the verifier, the unwind tables) is slow on a loaded machine.
		await until('three windows at the hub', async () => (await windows()) >= 3, 180_000).catch((err: unknown) => {
			throw new Error(`${String(err)}; the collector said:\n${log}`);
		});
		await hub.stop('SIGKILL');
		await until('the collector to notice', () => /lost the hub/.test(log));
		// The outage: windows keep coming meanwhile, into the spool; three of them, however long
		// a loaded machine takes to make them.
		const spooledWindows = () =>
			readdirSync(spoolDir)
				.filter((f) => f.endsWith('.jsonl'))
				.reduce((n, f) => n + (readFileSync(join(spoolDir, f), 'latin1').match(/"type":"profile"/g) ?? []).length, 0);
		const before = spooledWindows();
		await until('three windows spooled in the outage', () => spooledWindows() >= before + 3);
		await hub.start();
		await until('the reconnection', () => (log.match(/connected to /g) ?? []).length >= 2);
		// The restarted hub's counter starts at 0: the outage's windows and a fresh one.
		await until('windows after the restart', async () => (await windows()) >= 4);
		collector.kill('SIGTERM');
		assert.equal(await exited, 0, log);
		const summary = /stored messages made: (.*); (\d+) acknowledged, (\d+) dropped, (\d+) left/.exec(log);
		assert.ok(summary, log);
		const made = Number(/profile (\d+)/.exec(summary[1]!)?.[1]);
		assert.equal(summary[3], '0', 'nothing dropped');
		assert.equal(summary[4], '0', 'nothing left unacknowledged');
		assert.ok(made >= 6, `windows made before, during and after the outage: ${made}`);
		await hub.stop();
		const reader = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir: dir, token: TOKEN, web: false, log: () => {} });
		try {
			const hosts = await reader.storage.profiles.listHosts();
			assert.equal(hosts.find((h) => h.host === 'real-host')?.windows, made, 'each window the collector made is stored once');
		} finally {
			await reader.close();
		}
	} finally {
		if (collector.exitCode === null) collector.kill('SIGKILL');
		await hub.stop('SIGKILL');
		rmSync(dir, { recursive: true, force: true });
		rmSync(spoolDir, { recursive: true, force: true });
	}
});

test("a hub that does not speak the collector's protocol ends the collector with code 3 and one line", async (t) => {
	if (!skipUnlessBpf(t)) return;
	// A hub of another protocol version, as far as the collector can tell.
	const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
	await new Promise((r) => wss.once('listening', r));
	wss.on('connection', (ws) =>
		ws.once('message', () => ws.close(ingestCloseCodes.unsupportedVersion, 'hub speaks protocol 2, collector 1')),
	);
	const spoolDir = mkdtempSync(join(tmpdir(), 'firesight-spool-'));
	const { port } = wss.address() as { port: number };
	const collector = spawn(
		process.execPath,
		[BIN, 'collector', '--hub', `http://127.0.0.1:${port}`, '--token', TOKEN, '--spool', spoolDir],
		{
			stdio: ['ignore', 'pipe', 'pipe'],
		},
	);
	let err = '';
	collector.stderr.on('data', (d) => (err += d));
	try {
		const code = await new Promise<number | null>((r) => collector.once('exit', (c) => r(c)));
		assert.equal(code, 3, err);
		assert.match(
			err,
			/^firesight collector: the hub refused this collector: hub speaks protocol 2, collector 1; run the same Firesight version on both$/m,
		);
		assert.doesNotMatch(err, /\n\s+at /, 'no stack trace');
	} finally {
		if (collector.exitCode === null) collector.kill('SIGKILL');
		await new Promise((r) => wss.close(r));
		rmSync(spoolDir, { recursive: true, force: true });
	}
});

/**
 * Sends windows 0..n-1 of one collector run with their ids over a raw connection and waits for
 * every acknowledgement: what a collector that never saw an ack replays after an outage.
 */
async function sendRun(hub: HubProcess, host: string, boot: string, n: number): Promise<void> {
	const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/ingest`, { headers: { authorization: `Bearer ${TOKEN}` } });
	const acked = new Set<number>();
	ws.on('message', (d) => {
		const reply = JSON.parse(d.toString()) as { type: string; id?: { seq: number } };
		if (reply.type === 'ack' && reply.id) acked.add(reply.id.seq);
	});
	await new Promise((res, rej) => {
		ws.once('open', res);
		ws.once('error', rej);
	});
	ws.send(JSON.stringify({ type: 'hello', host, version: 'test', frequencyHz: 99, protocol: 1, boot }));
	for (let i = 0; i < n; i++) ws.send(JSON.stringify({ type: 'profile', window: windowAt(host, i), id: { boot, seq: i } }));
	await until(`${n} acknowledgements`, () => acked.size === n);
	ws.close();
}

// ClickHouse has no transactions: a hub killed after a window's INSERT and before its ledger
// row is written leaves the window and no ledger. Emptying the ledger table after a run makes
// that state for every window at once; the restarted hub must still know each replayed id.
test(
	'on ClickHouse, a hub killed between its inserts and their ledger rows: the replay is known from the stored rows',
	{ timeout: 600_000 },
	async (t) => {
		const started = await startClickhouse();
		if ('reason' in started) {
			if (clickhouseRequired()) throw new Error(started.reason);
			t.skip(started.reason);
			return;
		}
		const { server } = started;
		const db = `firesight_outage_${randomBytes(4).toString('hex')}`;
		const store = server.url.replace(/\/[^/]*$/, `/${db}`);
		const dir = mkdtempSync(join(tmpdir(), 'firesight-outage-'));
		const hub = new HubProcess(await freePort(), dir, ['--store', store]);
		const n = 60;
		try {
			await hub.start();
			await sendRun(hub, 'crash-host', 'run1', n);
			await hub.stop('SIGKILL');
			await clickhouseStatement(server, `TRUNCATE TABLE ${db}.ingested_messages`);
			assert.equal((await clickhouseStatement(server, `SELECT count() FROM ${db}.ingested_messages`)).trim(), '0');
			await hub.start();
			await sendRun(hub, 'crash-host', 'run1', n);
			assert.equal(
				await hub.metric('firesight_hub_messages_replayed_total'),
				n,
				'every replayed window was acknowledged without an insert',
			);
			await hub.stop();
			const storage = await openStorage(store);
			try {
				const all = await storage.profiles.query({ fromMs: T0, toMs: T0 + n * STEP_MS, host: 'crash-host' });
				assert.equal(all.windows, n);
				assert.equal(totalWeight(all.profile), (n * (n + 1)) / 2);
			} finally {
				await storage.close();
			}
		} finally {
			await hub.stop('SIGKILL');
			await clickhouseStatement(server, `DROP DATABASE IF EXISTS ${db}`);
			await server.stop();
			rmSync(dir, { recursive: true, force: true });
		}
	},
);
