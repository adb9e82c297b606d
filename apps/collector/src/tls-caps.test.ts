/**
 * The TLS capture's kernel maps and its queue to JavaScript driven past their bounds by real TLS
 * traffic, with each loaded small through TlsCapture's kernel options: the loss is counted under
 * the name docs/limits.md lists, and the requests the bound does not touch are still captured.
 * The ring buffer and the connection tracker are in collector-caps.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import type { RequestRecord } from '@firesight/protocol';
import { bpfSkip } from '@firesight/testing/bpf-test-gate';
import { freePort } from '@firesight/testing/free-port';
import { makeCert, startNodeServer, type Cert } from '@firesight/testing/tls-peers';
import { startHub } from '@firesight/web/server';
import { startCollector } from './collector-agent.ts';
import { RequestAttribution } from './request-attribution.ts';
import { TlsCapture, type TlsCaptureOptions } from './tls/tls-capture.ts';
import { tlsFeature } from './tls/tls-feature.ts';

const skip = bpfSkip();

/** Waits for `check`; past the deadline fails with `what` and, when given, what `state` says then. */
async function until(what: string, check: () => boolean | Promise<boolean>, state?: () => unknown): Promise<void> {
	const deadline = Date.now() + 60_000;
	while (!(await check())) {
		assert.ok(Date.now() < deadline, `not within 60 s: ${what}${state ? ` (${JSON.stringify(state())})` : ''}`);
		await sleep(50);
	}
}

/**
 * `n` requests on one keep-alive connection, `GET <prefix><i>`, from a node client. Its pid is in
 * none of the captures' pid lists, so only the server's side of each exchange is traced. With a
 * fourth argument `hold` it then prints `sent` and keeps the connection open.
 */
const CLIENT = `
const https = require('https');
const [port, prefix, n, hold] = process.argv.slice(1);
const agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
(async () => {
	for (let i = 0; i < +n; i++) {
		await new Promise((resolve, reject) => {
			https.get({ host: '127.0.0.1', port: +port, path: prefix + i, agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
		});
	}
	if (hold !== 'hold') return agent.destroy();
	console.log('sent');
	setInterval(() => {}, 1000);
})().catch((e) => { console.error(e); process.exit(1); });
`;

async function requests(port: number, prefix: string, n: number): Promise<void> {
	const c = spawn(process.execPath, ['-e', CLIENT, String(port), prefix, String(n)], { stdio: 'inherit' });
	const [code] = await once(c, 'exit');
	assert.equal(code, 0, 'the client got every answer');
}

interface Peers {
	cert: Cert;
	port: number;
	serverPid: number;
}

async function server(t: TestContext, cert?: Cert): Promise<Peers> {
	const c = cert ?? makeCert();
	if (!cert) t.after(() => c.remove());
	const port = await freePort();
	const s = await startNodeServer(c, port);
	t.after(() => s.kill());
	return { cert: c, port, serverPid: s.pid! };
}

/** A capture of the given processes with the given kernel sizes; its server-side records by path. */
function capture(
	t: TestContext,
	opts: TlsCaptureOptions,
	start: (cap: TlsCapture) => void = (cap) => cap.start(),
): { cap: TlsCapture; served: (prefix: string) => number } {
	const cap = new TlsCapture(opts);
	const errors: Error[] = [];
	const records: RequestRecord[] = [];
	cap.on('error', (e) => errors.push(e));
	cap.on('request', (r) => records.push(r));
	start(cap);
	t.after(() => {
		cap.stop();
		assert.deepEqual(
			errors.map((e) => e.message),
			[],
		);
	});
	return { cap, served: (prefix) => records.filter((r) => r.role === 'server' && r.path.startsWith(prefix)).length };
}

/**
 * A python client that completes its handshake, then, told to on stdin, reads from a server that
 * will not answer: python's blocking socket sits inside SSL_read_ex (in the read syscall) until
 * it is killed, holding its slot of in-flight calls.
 */
const BLOCKED_READER = `
import socket, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', int(sys.argv[1]))))
print('ready', flush=True)
sys.stdin.readline()
s.recv(1)
`;

test('tls: past activeSlots, a thread inside an SSL call loses it to another, counted as activeFull', { skip }, async (t) => {
	const { port, serverPid } = await server(t);
	const reader = spawn('python3', ['-c', BLOCKED_READER, String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
	t.after(() => reader.kill('SIGKILL'));
	await new Promise<void>((resolve, reject) => {
		reader.once('exit', (code) => reject(new Error(`python reader exited with ${code}`)));
		reader.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
	});
	// One slot for every thread: the reader and the server's event loop share it.
	const { cap, served } = capture(t, { pids: [serverPid, reader.pid!], kernel: { activeSlots: 1 } });
	await until('node and libssl attached', () => cap.counters().discovery.attachedFiles >= 2);
	reader.stdin!.write('read\n');
	// Blocked in a read of the socket (its first argument is no longer stdin, fd 0): inside SSL_read_ex.
	await until('the reader blocked inside SSL_read_ex', () => {
		const [nr, fd] = readFileSync(`/proc/${reader.pid}/syscall`, 'utf8').split(' ');
		return nr !== 'running' && fd !== undefined && fd !== '0x0';
	});
	// The server's first SSL call takes the only slot from the reader; it and the calls after it
	// keep theirs.
	await requests(port, '/active/', 20);
	await until('all 20 requests captured by the server', () => served('/active/') === 20);
	assert.equal(cap.counters().kernel.activeFull, 1, "one call lost: the blocked reader's");
});

/** `n` requests `GET <prefix><i>`, each on a new connection, `conc` at a time. */
const FRESH_CLIENT = `
const https = require('https');
const [port, prefix, n, conc] = process.argv.slice(1);
let next = 0;
const one = (i) => new Promise((resolve, reject) => {
	https.get({ host: '127.0.0.1', port: +port, path: prefix + i, agent: false, rejectUnauthorized: false }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
});
const worker = async () => { while (next < +n) await one(next++); };
Promise.all(Array.from({ length: +conc }, worker)).catch((e) => { console.error(e); process.exit(1); });
`;

test(
	'tls: past threadSlots, a thread whose socket note another thread took loses that tie, counted as threadsFull; its requests still arrive',
	{ skip },
	async (t) => {
		const a = await server(t);
		const b = await server(t, a.cert);
		// One slot of socket notes for every thread: the two servers' event loops take it from each other.
		const { cap, served } = capture(t, { pids: [a.serverPid, b.serverPid], kernel: { threadSlots: 1 } });
		await until('node attached', () => cap.counters().discovery.attachedFiles >= 1);
		// Each new connection's first SSL_read is tied to its socket by the read its thread made just
		// before; the other server's reads on the other core land between the two now and then.
		const sent = new Map<string, number>();
		const fresh = async (port: number, prefix: string, n: number) => {
			const c = spawn(process.execPath, ['-e', FRESH_CLIENT, String(port), prefix, String(n), '8'], { stdio: 'inherit' });
			assert.equal((await once(c, 'exit'))[0], 0, 'the client got every answer');
			sent.set(prefix, (sent.get(prefix) ?? 0) + n);
		};
		let round = 0;
		await until('threadsFull counted', async () => {
			round++;
			await Promise.all([fresh(a.port, `/threads-a/${round}/`, 100), fresh(b.port, `/threads-b/${round}/`, 100)]);
			return cap.counters().kernel.threadsFull > 0;
		});
		// A call not tied by its note is still captured (tied later, or without its peer): nothing else is lost.
		for (const [prefix, n] of sent) await until(`all ${n} requests of ${prefix} captured`, () => served(prefix) === n);
		const k = cap.counters().kernel;
		assert.deepEqual({ noEntry: k.noEntry, activeFull: k.activeFull, dataLost: k.dataLost }, { noEntry: 0, activeFull: 0, dataLost: 0 });
		// The threads find their slot again at their next socket read: later requests arrive as before.
		await Promise.all([requests(a.port, '/threads-after-a/', 20), requests(b.port, '/threads-after-b/', 20)]);
		await until('the 40 requests after it captured', () => served('/threads-after-a/') === 20 && served('/threads-after-b/') === 20);
	},
);

test("tls: past requestContextEntries, a thread's requests are not attributed, counted as requestContextFull", { skip }, async (t) => {
	const a = await server(t);
	const b = await server(t, a.cert);
	// This one runs in a collector, whose counters the hub's /metrics shows.
	const dir = mkdtempSync(join(tmpdir(), 'firesight-tls-caps-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir: dir, token: 't', web: false, log: () => {} });
	t.after(() => hub.close());
	const metric = async () => {
		const text = await (await fetch(`${hub.url}/metrics`)).text();
		const m = /^firesight_collector_drops\{host="caps-tls",counter="tls\.requestContextFull"\} (\d+)/m.exec(text);
		return m ? Number(m[1]) : -1;
	};
	const attribution = new RequestAttribution();
	// Room for one thread's requests: the first server's event loop takes it and keeps it while it lives.
	const { cap, served } = capture(t, { pids: [a.serverPid, b.serverPid], attribution, kernel: { requestContextEntries: 1 } }, (c) => {
		const collector = startCollector({
			hub: hub.url,
			token: 't',
			host: 'caps-tls',
			tickMs: 100,
			features: [tlsFeature({ attribution, create: () => c })],
			log: () => {},
		});
		t.after(() => collector.stop());
	});
	await until('node attached', () => cap.counters().discovery.attachedFiles >= 1);
	await requests(a.port, '/context-a/', 10);
	await until("the first server's 10 requests captured", () => served('/context-a/') === 10);
	assert.equal(cap.counters().kernel.requestContextFull, 0, 'the first thread has the entry');
	await requests(b.port, '/context-b/', 10);
	await until("the second server's 10 requests captured", () => served('/context-b/') === 10);
	assert.equal(cap.counters().kernel.requestContextFull, 10, 'each request of the second thread counted once');
	await requests(a.port, '/context-a/', 10);
	await until('the first server still captured', () => served('/context-a/') === 20);
	assert.equal(cap.counters().kernel.requestContextFull, 10);
	await until('tls.requestContextFull 10 on the hub /metrics', async () => (await metric()) === 10);
});

test('tls: past maxInFlightBytes, batches JavaScript has not taken are dropped, counted as streamDropped', { skip }, async (t) => {
	const { port, serverPid } = await server(t);
	const { cap, served } = capture(t, { pids: [serverPid], kernel: { maxInFlightBytes: 16 << 10 } });
	await until('node attached', () => cap.counters().discovery.attachedFiles >= 1);
	// The client runs while this thread waits for it, so the records of 300 exchanges pile up in
	// batches that nobody takes, far past 16 KiB.
	const blocked = spawnSync(process.execPath, ['-e', CLIENT, String(port), '/queued/', '300'], { stdio: 'inherit' });
	assert.equal(blocked.status, 0);
	const state = () => ({ after: served('/after/'), queued: served('/queued/'), ...cap.counters() });
	// Each exchange is delivered or counted (the count holds the few other records lost with them).
	// Waited for before more requests: the reader drains the buffer every 100 ms, so the last
	// exchanges may still be in it when the client has exited, and requests read in the same drain
	// are dropped with them. Two fresh-clone runs lost round 0 so: 302 records counted for the
	// queued connection, and 6 (all of round 0) or 3 (its first two exchanges) more.
	await until(
		'each of the 300 exchanges delivered or counted',
		() => served('/queued/') + cap.counters().kernel.streamDropped >= 300,
		state,
	);
	const kept = served('/queued/');
	assert.ok(kept < 300, `${kept} of 300 requests delivered past a 16 KiB queue`);
	// With the thread free again, requests go through as before.
	// A few at a time, each few taken before the next: 16 KiB is some 30 exchanges, which twenty
	// at once outran while the main thread paused (a fresh clone's run delivered 7 and counted 13).
	for (let round = 0; round < 5; round++) {
		await requests(port, `/after/${round}/`, 4);
		// Counted, not compared: a stall and an overshoot fail differently, with the counters of each.
		await until(`the 4 requests of round ${round} after it captured`, () => served(`/after/${round}/`) >= 4, state);
	}
	assert.equal(served('/after/'), 20, 'each request after it captured once');
});

/** `conns` keep-alive connections at once, each sending `rounds` requests `GET <prefix><conn>/<round>`. */
const CONCURRENT_CLIENT = `
const https = require('https');
const [port, prefix, conns, rounds] = process.argv.slice(1);
const agents = Array.from({ length: +conns }, () => new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false }));
const one = (agent, i, r) => new Promise((resolve, reject) => {
	https.get({ host: '127.0.0.1', port: +port, path: prefix + i + '/' + r, agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
});
(async () => {
	for (let r = 0; r < +rounds; r++) await Promise.all(agents.map((a, i) => one(a, i, r)));
	agents.forEach((a) => a.destroy());
})().catch((e) => { console.error(e); process.exit(1); });
`;

test(
	"tls: past connectionEntries, an SSL object's socket is found again, and a close that was let go ends its connection at the idle timeout, counted as connectionsEvicted",
	{ skip },
	async (t) => {
		const { port, serverPid } = await server(t);
		// The maps that tie SSL objects to sockets and number each socket's generations hold one
		// entry: sixteen connections at once let go of all but the last one touched (LRU).
		const { cap, served } = capture(t, { pids: [serverPid], idleTimeoutMs: 1000, kernel: { connectionEntries: 1 } });
		await until('node attached', () => cap.counters().discovery.attachedFiles >= 1);
		const c = spawn(process.execPath, ['-e', CONCURRENT_CLIENT, String(port), '/conns/', '16', '5'], { stdio: 'inherit' });
		assert.equal((await once(c, 'exit'))[0], 0);
		// Each SSL call finds its socket again (through the syscalls around it), so nothing is lost
		// while the connections live.
		await until('all 80 requests captured', () => served('/conns/') === 80);
		// A close is seen only through the socket's generation: those let go end by the idle timeout.
		// (`closed` counts every connection ended, `evicted` those ended without their close.)
		await until('every connection ended', () => {
			const { open, closed } = cap.counters().connections;
			return open === 0 && closed === 16;
		});
		assert.ok(cap.counters().connections.evicted > 0, 'closes the maps let go are counted when their connections end idle');
	},
);

test(
	'tls: past processEntries, the exit of a process let go is unseen: its connections end at the idle timeout, counted as connectionsEvicted',
	{ skip },
	async (t) => {
		const cert = makeCert();
		t.after(() => cert.remove());
		const aPort = await freePort();
		const a = await startNodeServer(cert, aPort);
		t.after(() => a.kill('SIGKILL'));
		const b = await server(t, cert);
		// One process known to do TLS at a time: the second server's calls let the first go.
		const { cap, served } = capture(t, { pids: [a.pid!, b.serverPid], idleTimeoutMs: 1000, kernel: { processEntries: 1 } });
		await until('node attached', () => cap.counters().discovery.attachedFiles >= 1);
		const holder = spawn(process.execPath, ['-e', CLIENT, String(aPort), '/held/', '5', 'hold'], { stdio: ['ignore', 'pipe', 'inherit'] });
		t.after(() => holder.kill('SIGKILL'));
		await new Promise<void>((resolve) => holder.stdout!.on('data', (d: Buffer) => d.toString().includes('sent') && resolve()));
		await requests(b.port, '/other/', 5);
		await until('all requests captured', () => served('/held/') === 5 && served('/other/') === 5);
		// Killed, the first server closes nothing itself and makes no SSL call: only its exit could end its connection.
		a.kill('SIGKILL');
		await once(a, 'exit');
		await until('every connection ended', () => {
			const { open, closed } = cap.counters().connections;
			return open === 0 && closed === 2;
		});
		assert.equal(cap.counters().connections.evicted, 1, "the first server's connection ended idle");
	},
);
