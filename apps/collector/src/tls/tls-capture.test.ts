/**
 * TlsCapture against real TLS peers with real uprobes: curl against `openssl s_server -www`
 * (system libssl) and Node https clients against a Node https server (Node's own OpenSSL). Each
 * run uses unique paths; the clients' own counts are the oracle: every request is captured
 * exactly once per side that can be seen.
 *
 * s_server -www is only seen from curl's side: it reads and writes through OpenSSL's SSL BIO
 * (BIO_f_ssl), which calls the library's internal read/write functions rather than the exported
 * SSL_read/SSL_write that uprobes can name.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { RequestRecord } from '@firesight/protocol';
import type { ConnectionSummary } from './connection-tracker.ts';
import { bpfSkip } from '@firesight/testing/bpf-test-gate';
import { TlsCapture } from './tls-capture.ts';
import { freePort } from '@firesight/testing/free-port';
import {
	HTTPS_SERVER_SCRIPT,
	makeCert,
	PIPELINE_CLIENT_SCRIPT,
	HTTPS_CLIENT_SCRIPT,
	runNode,
	startNodeServer,
	startSServer,
	until,
	type Cert,
} from '@firesight/testing/tls-peers';

const run = promisify(execFile);
const skip = bpfSkip();

const tag = randomBytes(6).toString('hex');
const SECRET = `Bearer fs-secret-${randomBytes(12).toString('hex')}`;
let capture: TlsCapture;
let cert: Cert;
const seen: RequestRecord[] = [];
const errors: Error[] = [];
const children: ChildProcess[] = [];
const tempDirs: string[] = [];

/** This file's servers (127.0.0.1:port): the connections to them are this file's, whatever else runs on the host. */
const servers = new Set<string>();
const ended: ConnectionSummary[] = [];

/**
 * This file's connections, ended and still open: those to or from its servers' ports, and any
 * other that carried one of its requests. The capture's counters are the whole host's (other TLS
 * traffic, benchmarks, other tests), but a connection's own count says what was lost on it: a
 * TLS call lost in the kernel, or a record lost on the way, shows on its connection as a parse
 * error, a desync or a response without its request (or as a request missing from `seen`, which
 * each test counts).
 */
function ownConnections(port?: number): ConnectionSummary[] {
	const carried = new Set(seen.filter((r) => r.path.includes(tag)).map((r) => r.connection));
	const mine = (c: ConnectionSummary) =>
		port === undefined
			? servers.has(c.local ?? '') || servers.has(c.remote ?? '') || (c.connection !== null && carried.has(c.connection))
			: c.local === `127.0.0.1:${port}` || c.remote === `127.0.0.1:${port}`;
	return [...ended, ...capture.connections()].filter(mine);
}

/** This file's connections (of one server's port) on which something was counted lost. */
const lossy = (port?: number) => ownConnections(port).filter((c) => c.losses > 0);

/** A port for one of this file's servers. */
async function serverPort(): Promise<number> {
	const port = await freePort();
	servers.add(`127.0.0.1:${port}`);
	return port;
}

/** Polls with a deadline meant only to end a hung run. */
const eventually = (cond: () => boolean) => until(cond, 30_000);

/**
 * The https server script run from a copy of node made now, after the tracer started: an
 * executable with its own OpenSSL that nothing ran at start, so only its exec event can lead
 * discovery to it. (The node running this test was attached at start.)
 */
async function startLateNodeServer(port: number): Promise<{ child: ChildProcess; binary: string }> {
	const dir = mkdtempSync(join(tmpdir(), 'fs-late-node-'));
	tempDirs.push(dir);
	const binary = join(dir, 'late-node');
	copyFileSync(process.execPath, binary);
	chmodSync(binary, 0o755);
	const child = spawn(binary, ['-e', HTTPS_SERVER_SCRIPT, cert.key, cert.cert, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
	children.push(child);
	await new Promise<void>((resolve, reject) => {
		child.once('exit', (code) => reject(new Error(`late https server exited with ${code}`)));
		child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
	});
	return { child, binary };
}

before(() => {
	if (skip) return;
	cert = makeCert();
	capture = new TlsCapture({ maxBodyBytes: 64 });
	capture.on('request', (r) => seen.push(r));
	capture.on('error', (e) => errors.push(e));
	capture.on('connectionEnd', (c) => ended.push(c));
	capture.start();
});

after(() => {
	for (const c of children) c.kill();
	capture?.stop();
	cert?.remove();
	for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const withPath = (prefix: string) => seen.filter((r) => r.path.startsWith(prefix));

test('curl against openssl s_server -www: each request once, with method, path, status and peer', { skip }, async () => {
	const port = await serverPort();
	children.push(await startSServer(cert, port));
	const prefix = `/fs-curl/${tag}`;
	const n = 3;
	let ok = 0;
	// How long each curl took as a whole: no request inside it can have taken longer.
	const curlMs: number[] = [];
	for (let i = 0; i < n; i++) {
		const started = performance.now();
		const { stdout } = await run('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', `https://127.0.0.1:${port}${prefix}/${i}`]);
		curlMs.push(performance.now() - started);
		if (stdout === '200') ok++;
	}
	assert.equal(ok, n, 'curl got its answers');
	assert.ok(await eventually(() => withPath(prefix).length >= n), `captured ${withPath(prefix).length} of ${n}`);
	await new Promise((r) => setTimeout(r, 200));
	const got = withPath(prefix);
	assert.equal(got.length, n, 'exactly once each');
	for (let i = 0; i < n; i++) {
		const r = got.find((x) => x.path === `${prefix}/${i}`);
		assert.ok(r, `request ${i} captured`);
		assert.equal(r.method, 'GET');
		assert.equal(r.status, 200);
		assert.equal(r.role, 'client');
		assert.equal(r.comm, 'curl');
		assert.equal(r.remote, `127.0.0.1:${port}`);
		assert.match(r.local ?? '', /^127\.0\.0\.1:\d+$/);
		assert.equal(r.endpoint, '/fs-curl/:id/:id', 'the run tag and the number collapse');
		assert.ok(r.latencyMs > 0 && r.latencyMs <= curlMs[i]!, `latency ${r.latencyMs} ms within curl's ${curlMs[i]} ms`);
		assert.ok(r.respBytes > 100, 'the status page came back whole (read until close)');
	}
	assert.deepEqual(lossy(port), [], 'nothing lost on its connections');
});

test(
	'a Node server from a binary first run after the tracer started: found at exec, keep-alive, both sides once each',
	{ skip },
	async () => {
		const port = await serverPort();
		const { child: server, binary } = await startLateNodeServer(port);
		assert.ok(
			await eventually(() => capture.attachedFiles().some((f) => f.path === binary && f.kind === 'executable')),
			`the copy of node was attached through its exec event (attached: ${capture
				.attachedFiles()
				.map((f) => f.path)
				.join(', ')})`,
		);
		const prefix = `/fs-node/${tag}`;
		const requests = [
			...Array.from({ length: 4 }, (_, i) => ({ path: `${prefix}/items/${i + 100}` })),
			{
				method: 'POST',
				path: `${prefix}/orders?card=4111111111111111`,
				body: 'x'.repeat(1000),
				headers: { authorization: SECRET, cookie: 'sid=client-cookie-secret' },
			},
			{ path: `${prefix}/status/503` },
		];
		const { stdout, pid: clientPid } = await runNode(HTTPS_CLIENT_SCRIPT, [JSON.stringify({ port, keepAlive: true, requests })]);
		const statuses = JSON.parse(stdout) as number[];
		assert.deepEqual(statuses, [200, 200, 200, 200, 200, 503]);
		const want = requests.length * 2;
		assert.ok(await eventually(() => withPath(prefix).length >= want), `captured ${withPath(prefix).length} of ${want}`);
		await new Promise((r) => setTimeout(r, 200));
		const got = withPath(prefix);
		const client = got.filter((r) => r.pid === clientPid);
		const srv = got.filter((r) => r.pid === server.pid);
		assert.equal(client.length, requests.length, 'client side once each');
		assert.equal(srv.length, requests.length, 'server side once each');
		for (const side of [client, srv]) {
			assert.deepEqual(
				side.map((r) => r.status),
				statuses,
			);
			assert.deepEqual(
				side.map((r) => r.method),
				['GET', 'GET', 'GET', 'GET', 'POST', 'GET'],
			);
			// Keep-alive: one connection for all of them, and a known one.
			assert.equal(new Set(side.map((r) => r.connection)).size, 1);
			assert.notEqual(side[0]!.connection, null);
		}
		assert.ok(client.every((r) => r.role === 'client' && r.remote === `127.0.0.1:${port}`));
		assert.ok(srv.every((r) => r.role === 'server' && r.local === `127.0.0.1:${port}`));
		const post = srv.find((r) => r.method === 'POST')!;
		assert.equal(post.path, `${prefix}/orders?card=REDACTED`);
		assert.ok(post.reqBytes > 1000, `request bytes ${post.reqBytes}`);
		assert.equal(post.requestBody, undefined, 'no bodies unless asked for');
		const agg = capture.aggregates();
		const ep = agg.endpoints.find((e) => e.pid === server.pid && e.endpoint === '/fs-node/:id/items/:id');
		assert.equal(ep?.count, 4);
		const errs = agg.endpoints.find((e) => e.pid === server.pid && e.endpoint === '/fs-node/:id/status/:id');
		assert.equal(errs?.errors, 1);
		assert.equal(errs && errs.errors / errs.count, 1);
		const proc = agg.processes.find((p) => p.pid === server.pid);
		assert.ok(proc && proc.count >= requests.length && proc.p99Ms >= proc.p50Ms);
		assert.equal(
			proc.histogram.reduce((a, b) => a + b, 0),
			proc.count,
		);
		assert.deepEqual(lossy(port), [], 'nothing lost on its connections');
	},
);

test('pipelined requests on one connection pair in order', { skip }, async () => {
	const port = await serverPort();
	const server = await startNodeServer(cert, port);
	children.push(server);
	const prefix = `/fs-pipe-${tag}`;
	// Paths of different lengths: the server answers `ok <path> 0`, so each response's size says
	// which request it answers, and a response paired with another request shows.
	const paths = [1, 8, 20].map((n) => `${prefix}/${'p'.repeat(n)}`);
	const { stdout, pid: clientPid } = await runNode(PIPELINE_CLIENT_SCRIPT, [String(port), ...paths]);
	assert.equal(stdout.trim(), '3');
	assert.ok(await eventually(() => withPath(prefix).length >= 6), `captured ${withPath(prefix).length} of 6`);
	await new Promise((r) => setTimeout(r, 200));
	const client = withPath(prefix).filter((r) => r.pid === clientPid);
	const srv = withPath(prefix).filter((r) => r.pid === server.pid);
	assert.deepEqual(
		client.map((r) => r.path),
		paths,
	);
	assert.deepEqual(
		srv.map((r) => r.path),
		paths,
	);
	assert.ok(client.every((r) => r.status === 200));
	for (const side of [client, srv]) {
		// Headers are the same size each time, so response size minus path length is one number.
		assert.equal(new Set(side.map((r) => r.respBytes)).size, 3, `responses differ in size: ${side.map((r) => r.respBytes).join(', ')}`);
		const overhead = side.map((r) => r.respBytes - r.path.length);
		assert.ok(
			overhead.every((o) => o === overhead[0]),
			`each response belongs to its own request: ${side.map((r) => `${r.path.length}:${r.respBytes}`).join(', ')}`,
		);
	}
	assert.deepEqual(
		client.map((r) => r.respBytes),
		srv.map((r) => r.respBytes),
	);
	assert.deepEqual(lossy(port), [], 'nothing lost on its connections');
});

test('a 1 MiB response is one request with the whole size on both sides', { skip }, async () => {
	const port = await serverPort();
	const server = await startNodeServer(cert, port);
	children.push(server);
	capture.setCaptureBodies(server.pid!, true);
	const prefix = `/big/fs-${tag}`;
	const { stdout, pid: clientPid } = await runNode(HTTPS_CLIENT_SCRIPT, [
		JSON.stringify({ port, keepAlive: true, requests: [{ path: prefix }, { path: `${prefix}-after` }] }),
	]);
	assert.deepEqual(JSON.parse(stdout), [200, 200]);
	assert.ok(await eventually(() => withPath(prefix).length >= 4), `captured ${withPath(prefix).length} of 4`);
	const big = withPath(prefix).filter((r) => r.path === prefix);
	assert.equal(big.length, 2);
	for (const r of big) {
		assert.ok(r.respBytes > 1 << 20 && r.respBytes < (1 << 20) + 1024, `response bytes ${r.respBytes} (${r.role})`);
		assert.equal(r.status, 200);
	}
	const srv = big.find((r) => r.pid === server.pid)!;
	assert.equal(srv.responseBody?.length, 64, 'bodies for the asked-for process, capped');
	assert.equal(big.find((r) => r.pid === clientPid)!.responseBody, undefined);
	// The request after the big one is still parsed: the stream stayed in step.
	assert.equal(withPath(`${prefix}-after`).length, 2);
	capture.setCaptureBodies(server.pid!, false);
	assert.deepEqual(lossy(port), [], 'nothing lost on its connections');
});

test('no Authorization or cookie value appears in anything the capture emits', { skip }, async () => {
	const port = await serverPort();
	children.push(await startSServer(cert, port));
	const prefix = `/fs-auth-${tag}`;
	await run('curl', [
		'-sk',
		'-o',
		'/dev/null',
		'-H',
		`Authorization: ${SECRET}`,
		'-H',
		'Cookie: a=curl-cookie-secret',
		`https://127.0.0.1:${port}${prefix}?token=abc123secret`,
	]);
	assert.ok(await eventually(() => withPath(prefix).length >= 1));
	const r = withPath(prefix)[0]!;
	assert.deepEqual(
		r.requestHeaders.find(([k]) => k === 'Authorization'),
		['Authorization', 'REDACTED'],
	);
	// Everything the capture hands out, over the whole run (the Node test sent the same secret).
	const everything = JSON.stringify([seen, capture.aggregates(), capture.connections(), capture.counters()]);
	for (const secret of [
		SECRET,
		SECRET.split(' ')[1]!,
		'client-cookie-secret',
		'curl-cookie-secret',
		'server-cookie-secret',
		'abc123secret',
		'4111111111111111',
	]) {
		assert.ok(!everything.includes(secret), `${secret} leaked`);
	}
	assert.ok(seen.some((x) => x.requestHeaders.some(([k, v]) => k.toLowerCase() === 'authorization' && v === 'REDACTED')));
});

test('nothing was lost on its connections and nothing failed', { skip }, () => {
	const c = capture.counters();
	assert.equal(c.kernel.decodeErrors, 0);
	// Every stream above is plain HTTP/1.1: nothing on its connections is lost to reassembly.
	// (Calls of more than 16 KiB, the 1 MiB response, leave gaps inside bodies: filled, not lost.)
	const own = ownConnections();
	assert.ok(own.some((x) => !x.open) && own.length >= 10, `its connections seen and ended (${own.length})`);
	const requests = seen.filter((r) => r.path.includes(tag));
	assert.ok(
		requests.every((r) => r.connection !== null && own.some((x) => x.connection === r.connection)),
		'every connection that carried its requests is among those checked',
	);
	assert.deepEqual(lossy(), []);
	assert.ok(c.discovery.attachedFiles >= 3, 'system libssl, node and the late copy of node');
	assert.deepEqual(errors, []);
});
