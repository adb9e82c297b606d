/**
 * Real TLS peers for the capture tests and the benchmark: a throwaway self-signed certificate,
 * `openssl s_server -www` (system libssl), and Node https servers and clients run as their own
 * processes (the collector never traces itself). Loopback only.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Cert {
	dir: string;
	cert: string;
	key: string;
	remove(): void;
}

export function makeCert(): Cert {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-tls-'));
	const cert = join(dir, 'cert.pem');
	const key = join(dir, 'key.pem');
	execFileSync(
		'openssl',
		[
			'req',
			'-x509',
			'-newkey',
			'ec',
			'-pkeyopt',
			'ec_paramgen_curve:prime256v1',
			'-nodes',
			'-keyout',
			key,
			'-out',
			cert,
			'-days',
			'1',
			'-subj',
			'/CN=localhost',
			// Valid for both loopback names, so a client that checks the name accepts it.
			'-addext',
			'subjectAltName=IP:127.0.0.1,DNS:localhost',
		],
		{ stdio: 'ignore' },
	);
	return { dir, cert, key, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const ok = await new Promise<boolean>((resolve) => {
			const s = connect(port, '127.0.0.1');
			s.once('connect', () => {
				s.destroy();
				resolve(true);
			});
			s.once('error', () => resolve(false));
		});
		if (ok) return;
		if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
		await new Promise((r) => setTimeout(r, 25));
	}
}

export async function startSServer(cert: Cert, port: number): Promise<ChildProcess> {
	const child = spawn('openssl', ['s_server', '-www', '-accept', `127.0.0.1:${port}`, '-cert', cert.cert, '-key', cert.key, '-quiet'], {
		stdio: 'ignore',
	});
	await waitForPort(port);
	return child;
}

/**
 * A Node https server: `/big` answers 1 MiB, `/status/N` answers status N, everything else
 * `ok <path>`; keep-alive and pipelining as Node does them. Prints `ready` once listening.
 */
export const HTTPS_SERVER_SCRIPT = `
const https = require('https'), fs = require('fs');
const [key, cert, port] = process.argv.slice(1);
const big = Buffer.alloc(1 << 20, 'b');
const srv = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert), keepAliveTimeout: 30000 }, (req, res) => {
	let n = 0;
	req.on('data', (d) => { n += d.length; });
	req.on('end', () => {
		const m = /\\/status\\/(\\d{3})/.exec(req.url);
		if (req.url.startsWith('/big')) { res.setHeader('content-length', big.length); res.end(big); return; }
		if (m) { res.statusCode = +m[1]; res.end('status'); return; }
		res.setHeader('set-cookie', 'session=server-cookie-secret');
		res.end('ok ' + req.url + ' ' + n);
	});
});
srv.listen(+port, '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
`;

/**
 * A Node https client: argv is a JSON {port, requests: [{method, path, headers, body}], keepAlive}.
 * Requests run one after another; prints a JSON array of the statuses it got.
 */
export const HTTPS_CLIENT_SCRIPT = `
const https = require('https');
const cfg = JSON.parse(process.argv[1]);
const agent = new https.Agent({ keepAlive: cfg.keepAlive, maxSockets: 1, rejectUnauthorized: false });
(async () => {
	const statuses = [];
	for (const r of cfg.requests) {
		statuses.push(await new Promise((resolve, reject) => {
			const req = https.request({ host: '127.0.0.1', port: cfg.port, method: r.method || 'GET', path: r.path, headers: r.headers || {}, agent }, (res) => {
				res.resume();
				res.on('end', () => resolve(res.statusCode));
			});
			req.on('error', reject);
			req.end(r.body);
		}));
	}
	agent.destroy();
	console.log(JSON.stringify(statuses));
})().catch((e) => { console.error(e); process.exit(1); });
`;

/**
 * A raw TLS client that pipelines: writes every request in one go on one connection, then reads
 * until as many responses have come back (Content-Length framing), prints how many.
 */
export const PIPELINE_CLIENT_SCRIPT = `
const tls = require('tls');
const [port, ...paths] = process.argv.slice(1);
const s = tls.connect({ host: '127.0.0.1', port: +port, rejectUnauthorized: false }, () => {
	s.write(paths.map((p) => 'GET ' + p + ' HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n').join(''));
});
let buf = Buffer.alloc(0), got = 0;
s.on('data', (d) => {
	buf = Buffer.concat([buf, d]);
	for (;;) {
		const end = buf.indexOf('\\r\\n\\r\\n');
		if (end < 0) break;
		const len = +(/content-length: *(\\d+)/i.exec(buf.subarray(0, end).toString()) || [0, 0])[1];
		if (buf.length < end + 4 + len) break;
		buf = buf.subarray(end + 4 + len);
		got++;
	}
	if (got === paths.length) { console.log(got); s.end(); }
});
`;

/** Runs a node script to completion; resolves with its stdout. */
export async function runNode(script: string, args: string[]): Promise<{ stdout: string; pid: number }> {
	const child = spawn(process.execPath, ['-e', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
	let stdout = '';
	child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
	const [code] = (await once(child, 'exit')) as [number | null];
	if (code !== 0) throw new Error(`node peer exited with ${code}`);
	return { stdout, pid: child.pid! };
}

/** Starts the https server script; resolves once it listens. */
export async function startNodeServer(cert: Cert, port: number): Promise<ChildProcess> {
	const child = spawn(process.execPath, ['-e', HTTPS_SERVER_SCRIPT, cert.key, cert.cert, String(port)], {
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	await new Promise<void>((resolve, reject) => {
		child.once('exit', (code) => reject(new Error(`https server exited with ${code}`)));
		child.stdout!.on('data', (d: Buffer) => {
			if (d.toString().includes('ready')) resolve();
		});
	});
	return child;
}

/** Polls until `cond` holds or the time is up; returns whether it held. */
export async function until(cond: () => boolean, timeoutMs = 3000): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (!cond()) {
		if (Date.now() > deadline) return false;
		await new Promise((r) => setTimeout(r, 20));
	}
	return true;
}
