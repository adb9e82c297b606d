/**
 * HTTPS requests end to end with real uprobes: `firesight up` on a free port with its own data
 * directory, a Node https server started after it, and curl with a unique path and an
 * `Authorization: Bearer <random secret>` header (the server answers 200 only when the secret
 * arrived, so the capture saw it in plaintext). The Requests page must show the request, `firesight
 * query requests --json` must print it once per traced side, and the secret must appear nowhere
 * the hub stores or serves. Needs root; skipped without it unless FIRESIGHT_REQUIRE_BPF=1, where it
 * fails.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { Profile } from 'pprof-format';
import { WebSocket } from 'ws';
import { bpfSkip } from '@firesight/testing/bpf-test-gate';
import { makeCert, type Cert } from '@firesight/testing/tls-peers';
import { launchChromium } from './browser.ts';
import { FatalError, firesightBin, freePort, healthy, screenshot, startUp, waitFor, type UpProcess } from './support.ts';

const skip = bpfSkip();
const run = promisify(execFile);

// Letters only: a tag that looks like an id (hex digits) would be collapsed to :id in endpoint templates.
const TAG = `e2e-${[...randomBytes(10)].map((b) => String.fromCharCode(97 + (b % 26))).join('')}`;
const SECRET = `fs-${randomBytes(16).toString('hex')}`;
const PATH = `/${TAG}/items/42`;

/**
 * Answers 200 when the Authorization header carries the secret, 401 otherwise. The secret comes
 * through the environment: argv would show in the process table's command line.
 */
const SERVER_SCRIPT = `
const https = require('https'), fs = require('fs');
const [key, cert, port] = process.argv.slice(1);
const secret = process.env.FS_E2E_SECRET;
https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
	req.resume();
	req.on('end', () => {
		res.statusCode = req.headers.authorization === 'Bearer ' + secret ? 200 : 401;
		res.end('ok');
	});
}).listen(+port, '127.0.0.1', () => console.log('ready'));
`;

let workDir: string | undefined;
let dataDir: string;
let up: UpProcess | undefined;
let cert: Cert | undefined;
let server: ChildProcess | undefined;
let tlsPort: number;
let browser: Browser | undefined;
let page: Page;
let base: string;
let liveSocket: WebSocket | undefined;
const liveTexts: string[] = [];
/** Wall-clock bounds of the curl the tests look at: the captured request happened within them. */
let curlStartedAt = 0;
let curledAt = 0;

async function curl(path: string, secret = SECRET): Promise<string> {
	const { stdout } = await run('curl', [
		'-sk',
		'-o',
		'/dev/null',
		'-w',
		'%{http_code}',
		'-H',
		`Authorization: Bearer ${secret}`,
		`https://127.0.0.1:${tlsPort}${path}?token=${secret}`,
	]);
	return stdout;
}

async function trpc(path: string, input: unknown): Promise<string> {
	const res = await fetch(`${base}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`);
	const text = await res.text();
	assert.equal(res.status, 200, `${path}: ${text}`);
	return text;
}

/** A GET on the hub that must answer 200: an error page would hold no secret and pass any search. */
async function fetchOk(path: string): Promise<Buffer> {
	const res = await fetch(`${base}${path}`);
	const body = Buffer.from(await res.arrayBuffer());
	assert.equal(res.status, 200, `${path}: ${body.toString('utf8', 0, 300)}`);
	return body;
}

/**
 * What a pprof download says, as searchable text: the gzip body unpacked and the profile's string
 * table decoded (names, labels, file names), plus the unpacked bytes themselves. The gzip body as
 * text could never match a secret, whatever the profile held.
 */
function pprofText(gz: Buffer): { text: string; samples: number } {
	const raw = gunzipSync(gz);
	const profile = Profile.decode(raw);
	return { text: `${profile.stringTable.strings.join('\n')}\n${raw.toString('latin1')}`, samples: profile.sample.length };
}

before(async () => {
	if (skip) return;
	workDir = mkdtempSync(join(tmpdir(), 'firesight-e2e-req-'));
	dataDir = join(workDir, 'data');
	const port = await freePort();
	base = `http://127.0.0.1:${port}`;
	const started = startUp(port, dataDir, ['--window', '2s']);
	up = started;
	await waitFor(
		'firesight up to serve /healthz',
		async () => {
			if (started.child.exitCode !== null) throw new FatalError(`firesight up exited with ${started.child.exitCode}:\n${started.output()}`);
			return healthy(base);
		},
		60_000,
		250,
	);
	await waitFor('the collector to connect', async () => started.output().includes('connected to '), 30_000, 100);
	assert.doesNotMatch(started.output(), /HTTPS request capture is off/);
	liveSocket = new WebSocket(`${base.replace('http', 'ws')}/live`);
	liveSocket.on('message', (d) => liveTexts.push(d.toString()));

	// Started after the collector: found through its exec event.
	cert = makeCert();
	tlsPort = await freePort();
	server = spawn(process.execPath, ['-e', SERVER_SCRIPT, cert.key, cert.cert, String(tlsPort)], {
		stdio: ['ignore', 'pipe', 'inherit'],
		env: { ...process.env, FS_E2E_SECRET: SECRET },
	});
	await new Promise<void>((resolve, reject) => {
		server!.once('exit', (code) => reject(new Error(`https server exited with ${code}`)));
		server!.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
	});
	// Attaching to a new process's OpenSSL takes a moment: warm up until a request shows, then
	// send the one the tests look at.
	let n = 0;
	await waitFor(
		'a warm-up request to be captured on the server side',
		async () => {
			assert.equal(await curl(`/${TAG}-warmup/${n++}`), '200');
			const stored = await trpc('requests.list', { sinceMs: 0, pid: server!.pid });
			return stored.includes(`${TAG}-warmup`);
		},
		30_000,
		300,
	);
	curlStartedAt = Date.now();
	assert.equal(await curl(PATH), '200', 'the server saw the secret');
	curledAt = Date.now();

	browser = await launchChromium();
	page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
});

after(async () => {
	liveSocket?.close();
	await browser?.close();
	server?.kill('SIGKILL');
	await up?.stop();
	cert?.remove();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('the Requests page shows the request with its method, path and status', { skip }, async (t) => {
	await page.goto(`${base}/requests`);
	await page.getByTestId('request-filter').fill(TAG + '/');
	const row = page.getByTestId(`request-row-${server!.pid}`).first();
	// A deadline only to end a hung run: how fast requests reach the page is not this test's to time.
	await row.waitFor({ timeout: 30_000 });
	const elapsed = Date.now() - curledAt;
	t.diagnostic(`request visible ${elapsed} ms after curl returned`);
	assert.equal(await row.getByTestId('request-method').textContent(), 'GET');
	assert.equal(await row.getByTestId('request-path').textContent(), `${PATH}?token=REDACTED`);
	assert.equal((await row.getByTestId('request-status').textContent())?.trim(), '200');
	// The endpoint table and histogram fill once the 2 s window is stored.
	await page.getByTestId('request-filter').fill('');
	await page.getByTestId('latency-histogram').waitFor({ timeout: 30_000 });
	await screenshot(page, 'requests-page');
});

test('its row opens a drawer with the headers as stored: Authorization redacted, the secret nowhere', { skip }, async () => {
	// A request made while the page is open and filtered: on a host busy with other HTTPS the
	// live table keeps only the newest requests, and an older one may be gone from it.
	const path = `/${TAG}-drawer/items`;
	await page.goto(`${base}/requests`);
	await page.getByTestId('request-filter').fill(path);
	await page.getByTestId('request-filter').waitFor();
	assert.equal(await curl(path), '200');
	const row = page.getByTestId(`request-row-${server!.pid}`).first();
	await row.waitFor({ timeout: 30_000 });
	await row.click();
	const drawer = page.getByTestId('request-drawer');
	const headers = drawer.getByTestId('request-headers');
	await headers.waitFor({ timeout: 30_000 });
	const authorization = headers.locator('tr', { hasText: /^authorization/i });
	assert.equal((await authorization.getByTestId('redacted-header').textContent())?.trim(), 'REDACTED');
	const text = (await drawer.textContent()) ?? '';
	assert.ok(text.includes(`${path}?token=REDACTED`), text.slice(0, 300));
	assert.equal(text.includes(SECRET), false, 'the drawer shows no secret');
	await screenshot(page, 'requests-drawer');
	await page.keyboard.press('Escape');
	await drawer.waitFor({ state: 'detached', timeout: 5_000 });
});

test('endpoints are one row per command and side: the curl processes are one client row', { skip }, async () => {
	// Under the tag's own segment: a longer segment with a digit would itself read as an id.
	const group = `/${TAG}/group`;
	for (let i = 1; i <= 5; i++) assert.equal(await curl(`${group}/${i}`), '200');
	await page.goto(`${base}/requests`);
	// The host may serve other HTTPS meanwhile: the filter keeps the table to this test's endpoint.
	await page.getByTestId('endpoint-filter').fill(`${group}/`);
	const rows = page.getByTestId('endpoint-table').locator('tbody tr', { hasText: `${group}/:id` });
	// Each curl is its own process; the window holding the last one is stored within a few seconds.
	// A curl that exits before its uprobes are attached is not captured, so at least two of five.
	const client = rows.filter({ has: page.getByTestId('endpoint-comm').getByText('curl', { exact: true }) });
	await waitFor(
		'several curls in one stored endpoint row',
		async () => {
			if ((await client.count()) !== 1) return false;
			const pids = Number(
				(
					(await client
						.getByTestId('endpoint-pids')
						.textContent()
						.catch(() => '')) ?? ''
				).replace(/[^\d]/g, ''),
			);
			return pids >= 2;
		},
		30_000,
		500,
	).catch(async (error: Error) => {
		await screenshot(page, 'requests-endpoints-by-command-failed');
		throw new Error(`${error.message}; rows: ${JSON.stringify(await rows.allTextContents())}`);
	});
	assert.equal(await rows.count(), 2, 'one curl row (client) and one node row (server)');
	const sides = await rows.getByTestId('endpoint-role').allTextContents();
	assert.deepEqual(sides.map((s) => s.trim()).sort(), ['client', 'server']);
	await screenshot(page, 'requests-endpoints-by-command');
});

test('firesight query requests --json prints it once per traced side with the right fields', { skip }, async () => {
	const { stdout } = await run(process.execPath, [firesightBin, 'query', 'requests', '--since', '5m', '--json', '--hub', base]);
	const mine = stdout
		.trim()
		.split('\n')
		.map((l) => JSON.parse(l))
		.filter((r) => r.path.startsWith(PATH));
	const server_ = mine.filter((r) => r.pid === server!.pid);
	const client = mine.filter((r) => r.comm === 'curl');
	assert.equal(server_.length, 1, JSON.stringify(mine));
	assert.equal(client.length, 1, JSON.stringify(mine));
	assert.equal(mine.length, 2);
	for (const r of mine) {
		assert.deepEqual(Object.keys(r), [
			'ts',
			'pid',
			'comm',
			'method',
			'path',
			'status',
			'latencyMs',
			'reqBytes',
			'respBytes',
			'local',
			'remote',
		]);
		assert.equal(r.method, 'GET');
		assert.equal(r.path, `${PATH}?token=REDACTED`);
		assert.equal(r.status, 200);
		assert.ok(
			r.latencyMs > 0 && r.latencyMs <= curledAt - curlStartedAt,
			`latency ${r.latencyMs} ms within curl's ${curledAt - curlStartedAt} ms`,
		);
		assert.ok(r.reqBytes > PATH.length && r.respBytes > 0);
		// Kernel times become wall-clock ms through one clock reading per batch: a millisecond or two of slack.
		assert.ok(r.ts >= curlStartedAt - 5 && r.ts <= curledAt + 5, `ts ${r.ts} within curl's ${curlStartedAt}..${curledAt}`);
	}
	assert.equal(server_[0].local, `127.0.0.1:${tlsPort}`);
	assert.equal(client[0].remote, `127.0.0.1:${tlsPort}`);
	assert.equal(client[0].local, server_[0].remote, 'both sides name the same connection');
});

test('the secret appears nowhere the hub stores or serves', { skip }, async () => {
	const now = Date.now();
	const range = { fromMs: now - 300_000, toMs: now + 1000 };
	// Wait until the window holding the request is stored: then every table has had its chance.
	let last = '';
	await waitFor(
		'the request window to be stored',
		async () => (last = await trpc('requests.endpoints', range)).includes(TAG),
		30_000,
		250,
	).catch((err: Error) => {
		const log = (up?.output() ?? '')
			.split('\n')
			.filter((l) => /reject|fail|error/i.test(l))
			.slice(-5)
			.join('\n');
		throw new Error(`${err.message}; endpoints: ${last.slice(0, 500)}; log: ${log}`);
	});
	const pprof = pprofText(await fetchOk(`/api/pprof?from=${range.fromMs}&to=${range.toMs}`));
	assert.ok(pprof.samples > 0, 'the profile holds samples (so the check below looks at something)');
	assert.ok(pprof.text.includes('comm'), 'the string table was decoded');
	const served = [
		await trpc('requests.list', { sinceMs: range.fromMs }),
		await trpc('requests.endpoints', range),
		await trpc('requests.histogram', { ...range, endpoint: `/${TAG}/items/:id` }),
		await trpc('hosts.list', undefined),
		pprof.text,
		(await fetchOk('/metrics')).toString('utf8'),
		liveTexts.join('\n'),
	];
	assert.ok(served[0]!.includes(TAG), 'the request is served (so the check below looks at it)');
	assert.ok(
		liveTexts.some((t) => t.includes(TAG)),
		'the request went out on /live',
	);
	for (const [i, text] of served.entries()) assert.equal(text.includes(SECRET), false, `served text ${i} holds the secret`);

	const files = readdirSync(dataDir);
	assert.ok(
		files.some((f) => f.endsWith('-wal')),
		`a WAL file exists (${files.join(', ')})`,
	);
	const grep = () => {
		for (const f of readdirSync(dataDir)) assert.equal(readFileSync(join(dataDir, f)).includes(SECRET), false, `${f} holds the secret`);
	};
	grep();
	// And after a clean stop has checkpointed the WAL into the database file.
	await up?.stop();
	up = undefined;
	grep();
	assert.ok(readFileSync(join(dataDir, 'firesight.db')).includes(TAG), 'the request itself was stored');
});
