/**
 * The collector's kernel maps and buffers driven past their bounds by real workloads, with the
 * maps loaded small through the loaders' options: each loss is counted by the kernel, and the
 * counters reach the hub's /metrics under the names docs/limits.md lists. The JS caches and
 * queues have their tests beside their code (docs/limits.md says where).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Profiler } from '@firesight/native';
import { bpfSkip } from '@firesight/testing/bpf-test-gate';
import { freePort } from '@firesight/testing/free-port';
import { makeCert, startNodeServer } from '@firesight/testing/tls-peers';
import { startHub } from '@firesight/web/server';
import { startCollector } from './collector-agent.ts';
import { TcpConnections } from './tcp/tcp-connections.ts';
import { tcpFeature } from './tcp/tcp-feature.ts';
import { TlsCapture } from './tls/tls-capture.ts';

const skip = bpfSkip();

/** Busy loops at the lowest priority: distinct processes, so distinct keys in the count maps. */
function spinners(n: number): ChildProcess[] {
	return Array.from({ length: n }, () => spawn('nice', ['-n', '19', 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' }));
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
	const deadline = Date.now() + 60_000;
	while (!(await check())) {
		assert.ok(Date.now() < deadline, `not within 60 s: ${what}`);
		await sleep(50);
	}
}

test('profile: past countEntries, samples are counted as countsMapFull, and every other one is delivered', { skip }, async (t) => {
	const busy = spinners(6);
	t.after(() => busy.forEach((c) => c.kill('SIGKILL')));
	const cap = 4;
	const profiler = new Profiler({ frequency: 199, unwind: 'fp', countEntries: cap });
	t.after(() => profiler.close());
	let full = 0;
	// Until the map overflows, for a minute at most: a count of drains runs out sooner on a busy host.
	const deadline = Date.now() + 60_000;
	while (full === 0 && Date.now() < deadline) {
		await sleep(300);
		const w = await profiler.drain();
		assert.ok(w.counts.length <= cap, `${w.counts.length} keys in a map of ${cap}`);
		const delivered = w.counts.reduce((n, c) => n + c.count, 0);
		assert.equal(delivered, w.counters.samples - w.counters.countsMapFull, 'taken = delivered + counted lost');
		full += w.counters.countsMapFull;
	}
	assert.ok(full > 0, 'six busy processes overflow a map of four keys');
});

test('profile: past stackEntries, stacks are counted (stackCollisions in fp, unwindStacksFull in auto)', { skip }, async (t) => {
	const busy = spinners(6);
	t.after(() => busy.forEach((c) => c.kill('SIGKILL')));
	for (const [unwind, counter] of [
		['fp', 'stackCollisions'],
		['auto', 'unwindStacksFull'],
	] as const) {
		const profiler = new Profiler({ frequency: 199, unwind, stackEntries: 4 });
		try {
			let lost = 0;
			const deadline = Date.now() + 60_000;
			while (lost === 0 && Date.now() < deadline) {
				await sleep(300);
				const w = await profiler.drain();
				lost += w.counters[counter];
			}
			assert.ok(lost > 0, `${unwind}: ${counter} counted`);
		} finally {
			profiler.close();
		}
	}
});

test('tcp: past connectionEntries and the ring buffer, connections and events are counted, on the hub /metrics', { skip }, async (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-caps-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir: dir, token: 't', web: false, log: () => {} });
	t.after(() => hub.close());
	// Collectors with a connection map of 4, and with a ring buffer of 4 KiB (events
	// are sent only for connections in the map, so a full map would hide the ring's bound).
	// A third lets one batch of events wait for JavaScript at a time.
	const kernels = { 'caps-map': { connectionEntries: 4 }, 'caps-ring': { ringBufferBytes: 4096 }, 'caps-queue': { maxInFlightBytes: 1 } };
	for (const [host, kernel] of Object.entries(kernels)) {
		const collector = startCollector({
			hub: hub.url,
			token: 't',
			host,
			tickMs: 100,
			features: [tcpFeature({ create: (h) => new TcpConnections({ host: h, kernel }) })],
			log: () => {},
		});
		t.after(() => collector.stop());
	}
	const drop = async (host: string, counter: string) => {
		const text = await (await fetch(`${hub.url}/metrics`)).text();
		const m = new RegExp(`^firesight_collector_drops\\{host="${host}",counter="tcp\\.${counter}"\\} (\\d+)`, 'm').exec(text);
		return m ? Number(m[1]) : -1;
	};
	await until(
		'both collectors on /metrics',
		async () => (await drop('caps-map', 'connectionsMapFull')) >= 0 && (await drop('caps-ring', 'ringBufferFull')) >= 0,
	);

	// 300 loopback connections open at once, then all closed in one go: 600 sockets against a
	// map of 4, and a burst of close events against a ring of 4 KiB (about 23 events).
	const sockets: Socket[] = [];
	const server = createServer((s) => sockets.push(s.on('error', () => {})));
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	t.after(() => {
		sockets.forEach((s) => s.destroy());
		server.close();
	});
	const port = (server.address() as { port: number }).port;
	const burst = async () => {
		const opened: Socket[] = [];
		await Promise.all(
			Array.from(
				{ length: 300 },
				() => new Promise<void>((resolve, reject) => opened.push(connect(port, '127.0.0.1', resolve).on('error', reject))),
			),
		);
		sockets.push(...opened);
		return opened;
	};
	const first = await burst();
	await until('connectionsMapFull on /metrics', async () => (await drop('caps-map', 'connectionsMapFull')) > 0);
	for (const s of first) s.resetAndDestroy();
	// The ring's drain thread may keep up with one burst on a quiet machine: bursts go on until it does not.
	await until('ringBufferFull and eventsDropped on /metrics', async () => {
		if ((await drop('caps-ring', 'ringBufferFull')) > 0 && (await drop('caps-queue', 'eventsDropped')) > 0) return true;
		for (const s of await burst()) s.resetAndDestroy();
		return false;
	});
	assert.equal(await drop('caps-ring', 'connectionsMapFull'), 0, 'the default map holds them all');
});

test('tls: past the ring buffer and maxConnections, records and connections are counted', { skip }, async (t) => {
	const cert = makeCert();
	t.after(() => cert.remove());
	const port = await freePort();
	const server = await startNodeServer(cert, port);
	t.after(() => server.kill());
	const capture = new TlsCapture({ ringBytes: 4096, maxConnections: 2 });
	const errors: Error[] = [];
	capture.on('error', (e: Error) => errors.push(e));
	capture.start();
	t.after(() => capture.stop());
	// Six connections, each kept open across two requests of 16 KiB bodies: a record larger than
	// the ring cannot be reserved, and six connections do not fit in two.
	const client = `
const https = require('https');
const port = +process.argv[1];
const body = 'x'.repeat(16384);
const one = (agent, i) => new Promise((resolve, reject) => {
	const req = https.request({ host: '127.0.0.1', port, method: 'POST', path: '/caps/' + i, agent, headers: { 'content-length': body.length } }, (res) => { res.resume(); res.on('end', resolve); });
	req.on('error', reject);
	req.end(body);
});
(async () => {
	const agents = Array.from({ length: 6 }, () => new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false }));
	for (let round = 0; round < 2; round++) await Promise.all(agents.map((a, i) => one(a, i)));
	agents.forEach((a) => a.destroy());
})().catch((e) => { console.error(e); process.exit(1); });
`;
	await until('the capture attached to the server', () => capture.counters().discovery.attachedFiles > 0);
	const c = spawn(process.execPath, ['-e', client, String(port)], { stdio: 'inherit' });
	assert.equal(await new Promise((r) => c.once('exit', r)), 0);
	assert.deepEqual(
		errors.map((e) => e.message),
		[],
	);
	await until('dataLost counted', () => capture.counters().kernel.dataLost > 0);
	await until('connections evicted', () => capture.counters().connections.evicted > 0);
});

test('pid filter: the tools hold 1,024 processes; one more is refused before anything loads, never traced in part', { skip }, async (t) => {
	const pids = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
	const profiler = new Profiler({ pids: pids(1024) });
	t.after(() => profiler.close());
	assert.throws(() => new Profiler({ pids: pids(1025) }), /at most 1024 processes/);
});
