/**
 * Each captured request is tied to its own socket, also when a process reuses the SSL object's
 * address and the socket's number for the next connection: the kernel side keeps an SSL object's
 * socket cached, and must see that a socket of the process was closed since (bpf/tls.bpf.c, the
 * count of closes). The client's own local port is the oracle for the server's remote address;
 * the server closes each connection once it has answered, and each must be seen closed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { RequestRecord } from '@firesight/protocol';
import { bpfSkip } from '@firesight/testing/bpf-test-gate';
import { freePort } from '@firesight/testing/free-port';
import { makeCert, startNodeServer } from '@firesight/testing/tls-peers';
import { TlsCapture } from './tls/tls-capture.ts';

const skip = bpfSkip();

/** `n` requests `GET <prefix><i>` one after another, each on a new connection; prints `path port` per answer. */
const CLIENT = `
const https = require('https');
const [port, prefix, n] = process.argv.slice(1);
(async () => {
	for (let i = 0; i < +n; i++) {
		await new Promise((resolve, reject) => {
			const req = https.get({ host: '127.0.0.1', port: +port, path: prefix + i, agent: false, rejectUnauthorized: false }, (res) => {
				const local = res.socket.localPort;
				res.resume();
				res.on('end', () => { console.log(prefix + i + ' ' + local); resolve(); });
			});
			req.on('error', reject);
		});
	}
})().catch((e) => { console.error(e); process.exit(1); });
`;

/**
 * Each way of seeing the socket syscalls ties them alike: the default (the socket layer's
 * tracepoints, where the kernel has them) and the fallbacks a kernel without them, or without
 * tracefs, gets.
 */
const hooks = [
	{ option: 'auto', expect: 'sockets' },
	{ option: 'tracepoints', expect: 'tracepoints' },
	{ option: 'raw', expect: 'raw' },
] as const;

for (const { option, expect } of hooks) {
	test(
		`tls (${expect}): every request of one connection after another is tied to its own socket, though SSL addresses and socket numbers are reused`,
		{ skip },
		async (t) => {
			const cert = makeCert();
			t.after(() => cert.remove());
			const port = await freePort();
			const server = await startNodeServer(cert, port);
			t.after(() => server.kill());
			const cap = new TlsCapture({ pids: [server.pid!], syscallHook: option });
			const records: RequestRecord[] = [];
			const errors: Error[] = [];
			cap.on('request', (r) => records.push(r));
			cap.on('error', (e) => errors.push(e));
			const ended = new Set<string>();
			cap.on('connectionEnd', (c) => c.connection && ended.add(c.connection));
			cap.start();
			assert.equal(cap.syscallHook, expect, 'the hook asked for (a kernel of 6.3 or later has the socket tracepoints)');
			t.after(() => cap.stop());
			const deadline = Date.now() + 60_000;
			while (cap.counters().discovery.attachedFiles < 1) {
				assert.ok(Date.now() < deadline, 'node attached within 60 s');
				await sleep(50);
			}
			const n = 40;
			const c = spawn(process.execPath, ['-e', CLIENT, String(port), '/tie/', String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
			let out = '';
			c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
			assert.equal((await once(c, 'exit'))[0], 0, 'the client got every answer');
			const clientPort = new Map(
				out
					.trim()
					.split('\n')
					.map((l) => l.split(' ') as [string, string]),
			);
			const served = () => records.filter((r) => r.role === 'server' && r.path.startsWith('/tie/'));
			while (served().length < n) {
				assert.ok(Date.now() < deadline, `${served().length} of ${n} requests captured within 60 s`);
				await sleep(50);
			}
			// Sequential connections: the server frees each SSL object and closes each socket before the next.
			const connections = new Set(served().map((r) => r.connection));
			const fds = new Set(served().map((r) => r.connection?.split(':')[1]));
			assert.equal(connections.size, n, 'one connection per request');
			assert.ok(fds.size < n, `socket numbers reused (${fds.size} numbers for ${n} connections)`);
			for (const r of served()) assert.equal(r.remote, `127.0.0.1:${clientPort.get(r.path)}`, `${r.path}: the client's own port`);
			// Each seen closed as it closed, the last too: a close told only by its socket number's
			// reuse would leave it open.
			while ([...connections].some((c) => c && !ended.has(c))) {
				const open = [...connections].filter((c) => c && !ended.has(c));
				assert.ok(Date.now() < deadline, `${open.length} connections (${open.slice(0, 3).join(', ')}) not seen closed within 60 s`);
				await sleep(50);
			}
			assert.deepEqual(
				errors.map((e) => e.message),
				[],
			);
		},
	);
}
