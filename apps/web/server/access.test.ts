import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileWindow, userFrames } from '@firesight/testing/profile-windows';
import { makeCert } from '@firesight/testing/tls-peers';
import { upgradeStatus, withTestHub, wsUrl } from './hub-test-harness.ts';
import { HubConfigError, startHub, type Hub, type HubOptions } from './index.ts';

const TOKEN = 'access-test-token';

const withHub = (extra: Partial<HubOptions>, fn: (hub: Hub) => Promise<void>) => withTestHub({ token: TOKEN, ...extra }, fn);

interface Answer {
	status: number;
	headers: Record<string, string | string[] | undefined>;
	body: string;
}

/** A plain HTTP(S) request with exactly these headers (fetch would not let a test set Host). */
function call(
	hub: Hub,
	path: string,
	opts: { method?: string; headers?: Record<string, string>; body?: string; ca?: Buffer } = {},
): Promise<Answer> {
	const url = new URL(path, hub.url);
	return new Promise((resolve, reject) => {
		const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
		const req = send(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {}, ...(opts.ca ? { ca: opts.ca } : {}) }, (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (c: Buffer) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
		});
		req.on('error', reject);
		req.end(opts.body);
	});
}

const upgrade = upgradeStatus;
const bearer = { authorization: `Bearer ${TOKEN}` };

async function login(hub: Hub, token: string, extra: { ca?: Buffer } = {}): Promise<Answer> {
	return call(hub, '/api/login', {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded', origin: hub.url },
		body: new URLSearchParams({ token, next: '/profiles' }).toString(),
		...extra,
	});
}

function sessionCookie(answer: Answer): string {
	const set = answer.headers['set-cookie'];
	const line = Array.isArray(set) ? set[0] : set;
	assert.ok(line, 'no session cookie');
	return line.split(';')[0]!;
}

test('with auth on, every door but /healthz and the login page needs the token or a session', () =>
	withHub({ auth: true }, async (hub) => {
		assert.equal(hub.auth, true);
		assert.equal((await call(hub, '/trpc/hosts.list')).status, 401);
		assert.equal((await call(hub, '/trpc/shares.get%E0')).status, 401);
		assert.equal((await call(hub, '/api/pprof?from=0&to=1')).status, 401);
		assert.equal((await call(hub, '/metrics')).status, 401);
		assert.equal(await upgrade(wsUrl(hub, '/live'), {}), 401);
		const page = await call(hub, '/requests?host=box');
		assert.equal(page.status, 303);
		assert.equal(page.headers.location, '/login?next=%2Frequests%3Fhost%3Dbox');
		assert.equal((await call(hub, '/healthz')).status, 200);
		assert.notEqual((await call(hub, '/login')).status, 401);

		// The token as Bearer opens the API for scripts and the CLI.
		assert.equal((await call(hub, '/trpc/hosts.list', { headers: bearer })).status, 200);
		assert.equal((await call(hub, '/metrics', { headers: bearer })).status, 200);
		assert.equal(await upgrade(wsUrl(hub, '/live'), bearer), 101);
		assert.equal(await upgrade(wsUrl(hub, '/live'), { authorization: 'Bearer wrong' }), 401);

		const wrong = await login(hub, 'not-the-token');
		assert.equal(wrong.status, 303);
		assert.match(String(wrong.headers.location), /^\/login\?failed=1/);
		assert.equal(wrong.headers['set-cookie'], undefined);

		const ok = await login(hub, TOKEN);
		assert.equal(ok.status, 303);
		assert.equal(ok.headers.location, '/profiles');
		const line = String(ok.headers['set-cookie']);
		assert.match(line, /HttpOnly/);
		assert.match(line, /SameSite=Strict/);
		assert.doesNotMatch(line, /Secure/);
		assert.ok(!line.includes(TOKEN), 'the cookie must not hold the token');
		const cookie = sessionCookie(ok);
		assert.equal((await call(hub, '/trpc/hosts.list', { headers: { cookie } })).status, 200);
		assert.equal(await upgrade(wsUrl(hub, '/live'), { cookie, origin: hub.url }), 101);
		// The browser sends the cookie for a page elsewhere too; its Origin gives it away.
		assert.equal(await upgrade(wsUrl(hub, '/live'), { cookie, origin: 'https://attacker.example' }), 403);
		assert.equal((await call(hub, '/trpc/hosts.list', { headers: { cookie: 'firesight_session=guessed' } })).status, 401);

		const out = await call(hub, '/api/logout', { method: 'POST', headers: { cookie, origin: hub.url } });
		assert.equal(out.status, 303);
		assert.equal((await call(hub, '/trpc/hosts.list', { headers: { cookie } })).status, 401);

		// Collectors keep using the token on /ingest.
		assert.equal(await upgrade(wsUrl(hub, '/ingest'), {}), 401);
		assert.equal(await upgrade(wsUrl(hub, '/ingest'), bearer), 101);

		const metrics = (await call(hub, '/metrics', { headers: bearer })).body;
		assert.match(metrics, /firesight_hub_http_refused_total\{reason="unauthenticated"\} [1-9]/);
		assert.match(metrics, /firesight_hub_logins_failed_total 1\b/);
	}));

test("the login form's next page: any value sends the browser to a path on this hub, written in ASCII, never a 500", () =>
	withHub({ auth: true, loginFailuresPerMinute: 100_000 }, async (hub) => {
		const next = fc.oneof(
			fc.string({ unit: 'binary', maxLength: 60 }).map((s) => `/${s}`),
			fc.string({ unit: 'binary', maxLength: 60 }),
			fc.constantFrom(
				'/a\nb',
				'/\u0100',
				'/\u0000',
				'/\t/evil.example',
				'/\\evil.example',
				'//evil.example',
				'/?q=é#ü',
				'http://evil.example/',
			),
		);
		await fc.assert(
			fc.asyncProperty(next, fc.boolean(), async (value, right) => {
				const answer = await call(hub, '/api/login', {
					method: 'POST',
					headers: { 'content-type': 'application/x-www-form-urlencoded', origin: hub.url },
					body: new URLSearchParams({ token: right ? TOKEN : 'not-the-token', next: value }).toString(),
				});
				assert.equal(answer.status, 303, `${JSON.stringify(value)}: ${answer.status} ${answer.body}`);
				const location = String(answer.headers.location);
				assert.match(location, /^\/(?![/\\])[\x21-\x7e]*$/, JSON.stringify(value));
				if (right) assert.equal(new URL(location, hub.url).origin, hub.url);
			}),
			{ numRuns: 400 },
		);
	}));

test('wrong tokens at the login form are throttled: past the limit even the right one waits', () =>
	withHub({ auth: true, loginFailuresPerMinute: 3 }, async (hub) => {
		for (let i = 0; i < 3; i++) assert.equal((await login(hub, `guess-${i}`)).status, 303);
		const throttled = await login(hub, TOKEN);
		assert.equal(throttled.status, 429);
		assert.ok(Number(throttled.headers['retry-after']) > 0);
		assert.equal(throttled.headers['set-cookie'], undefined);
	}));

test('wrong Bearer tokens are throttled per address like logins: the API and /ingest, counted on /metrics', async () => {
	await withHub({ auth: true, bearerFailuresPerMinute: 3 }, async (hub) => {
		const cookie = sessionCookie(await login(hub, TOKEN));
		for (let i = 0; i < 3; i++) {
			assert.equal((await call(hub, '/trpc/hosts.list', { headers: { authorization: `Bearer guess-${i}` } })).status, 401);
		}
		const throttled = await call(hub, '/trpc/hosts.list', { headers: bearer });
		assert.equal(throttled.status, 429, 'past the limit even the right token waits');
		assert.ok(Number(throttled.headers['retry-after']) > 0);
		assert.equal(await upgrade(wsUrl(hub, '/ingest'), bearer), 429);
		// A browser's session is no Bearer guess: it is not locked out.
		const metrics = await call(hub, '/metrics', { headers: { cookie } });
		assert.equal(metrics.status, 200);
		assert.match(metrics.body, /firesight_hub_bearer_failures_total\{door="api"\} 3\b/);
		assert.match(metrics.body, /firesight_hub_http_refused_total\{reason="bearer_throttled"\} 2\b/);
	});
	// Auth off (a loopback `up`): the API needs no token, but /ingest does, and is throttled.
	await withHub({ bearerFailuresPerMinute: 2 }, async (hub) => {
		assert.equal((await call(hub, '/trpc/hosts.list', { headers: { authorization: 'Bearer anything' } })).status, 200);
		assert.equal(await upgrade(wsUrl(hub, '/ingest'), { authorization: 'Bearer wrong-1' }), 401);
		assert.equal(await upgrade(wsUrl(hub, '/ingest'), { authorization: 'Bearer wrong-2' }), 401);
		assert.equal(await upgrade(wsUrl(hub, '/ingest'), bearer), 429);
		const metrics = (await call(hub, '/metrics')).body;
		assert.match(metrics, /firesight_hub_bearer_failures_total\{door="ingest"\} 2\b/);
		assert.doesNotMatch(metrics, /door="api"/);
	});
});

test('--metrics-public opens /metrics and nothing else', () =>
	withHub({ auth: true, metricsPublic: true }, async (hub) => {
		assert.equal((await call(hub, '/metrics')).status, 200);
		assert.equal((await call(hub, '/trpc/hosts.list')).status, 401);
	}));

test('a loopback hub without a chosen token lets browsers in, but not by a foreign Host or Origin', () =>
	withHub({}, async (hub) => {
		assert.equal(hub.auth, false);
		assert.equal((await call(hub, '/trpc/hosts.list')).status, 200);
		assert.equal(await upgrade(wsUrl(hub, '/live'), { origin: hub.url }), 101);
		// DNS rebinding: the attacker's name resolves to 127.0.0.1.
		const port = hub.port;
		assert.equal((await call(hub, '/trpc/hosts.list', { headers: { host: `attacker.example:${port}` } })).status, 403);
		assert.equal((await call(hub, '/', { headers: { host: 'attacker.example' } })).status, 403);
		assert.equal(await upgrade(wsUrl(hub, '/live'), { host: `attacker.example:${port}` }), 403);
		assert.equal((await call(hub, '/trpc/hosts.list', { headers: { host: `localhost:${port}` } })).status, 200);
		// Cross-site WebSocket hijacking: a page elsewhere opens /live in the user's browser.
		assert.equal(await upgrade(wsUrl(hub, '/live'), { origin: 'http://attacker.example' }), 403);
		assert.equal(await upgrade(wsUrl(hub, '/live'), { origin: 'null' }), 403);
		// A cross-site form post.
		assert.equal(
			(await call(hub, '/api/login', { method: 'POST', headers: { origin: 'http://attacker.example' }, body: 'token=x' })).status,
			403,
		);
		assert.equal((await call(hub, '/healthz', { headers: { host: 'attacker.example' } })).status, 200);
	}));

test('allowedHosts adds the names a hub is reached by', () =>
	withHub({ allowedHosts: ['Firesight.Example'] }, async (hub) => {
		assert.equal((await call(hub, '/trpc/hosts.list', { headers: { host: `firesight.example:${hub.port}` } })).status, 200);
		assert.equal((await call(hub, '/trpc/hosts.list', { headers: { host: 'other.example' } })).status, 403);
	}));

test('beyond loopback the hub needs auth: it refuses to start with auth off, and turns it on by default', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-access-'));
	try {
		const open = await startHub({
			listen: { host: '0.0.0.0', port: 0 },
			dataDir: dir,
			token: TOKEN,
			auth: false,
			web: false,
			log: () => {},
		}).then(
			async (h) => (await h.close(), null),
			(err: unknown) => err,
		);
		assert.ok(open instanceof HubConfigError, 'a hub open to the network started');
		assert.equal(open.code, 'needs_token');
		assert.match(open.message, /^refusing to listen on 0\.0\.0\.0 without a token/);
		assert.doesNotMatch(open.message, /\n/);
		const hub = await startHub({ listen: { host: '0.0.0.0', port: 0 }, dataDir: dir, token: TOKEN, web: false, log: () => {} });
		try {
			assert.equal(hub.auth, true);
			assert.equal((await call(hub, `http://127.0.0.1:${hub.port}/trpc/hosts.list`)).status, 401);
		} finally {
			await hub.close();
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test('tRPC refuses an oversized batch and an answer over its size budget', async () => {
	await withHub({}, async (hub) => {
		const batch = (n: number) =>
			`/trpc/${Array.from({ length: n }, () => 'hosts.list').join(',')}?batch=1&input=${encodeURIComponent(JSON.stringify({}))}`;
		assert.equal((await call(hub, batch(10))).status, 200);
		const big = await call(hub, batch(120));
		assert.equal(big.status, 413);
		assert.match(big.body, /batch/i);
	});
	await withHub({ apiBudget: { maxResponseBytes: 8 } }, async (hub) => {
		const over = await call(hub, '/trpc/hosts.list');
		assert.equal(over.status, 503);
		assert.match(over.body, /over the API's limit of 8 bytes/);
		const metrics = (await call(hub, '/metrics')).body;
		assert.match(metrics, /firesight_hub_api_refused_total\{reason="size"\} 1\b/);
	});
});

test('tRPC answers 503 when its queue is full, and when a query cannot finish within the time budget', async () => {
	// No slot at all makes both deterministic: every request waits, or is refused at once.
	await withHub({ apiBudget: { concurrent: 0, queued: 0 } }, async (hub) => {
		const busy = await call(hub, '/trpc/hosts.list');
		assert.equal(busy.status, 503);
		assert.match(busy.body, /busy/);
	});
	await withHub({ apiBudget: { concurrent: 0, timeMs: 50 } }, async (hub) => {
		const slow = await call(hub, '/trpc/hosts.list,hosts.list?batch=1&input=%7B%7D');
		assert.equal(slow.status, 503);
		const body = JSON.parse(slow.body) as { error: { message: string; data: { firesight: string } } }[];
		assert.equal(body.length, 2, 'one error per call of the batch');
		assert.match(body[0]!.error.message, /within 50 ms/);
		assert.equal(body[0]!.error.data.firesight, 'UNAVAILABLE');
		const metrics = (await call(hub, '/metrics')).body;
		assert.match(metrics, /firesight_hub_api_refused_total\{reason="time"\} 1\b/);
	});
});

test('a query whose time budget ran out is stopped in the store, not left running, and counted', async () => {
	// A budget of 0 ms is spent before the query starts: deterministic, whatever the machine's speed.
	await withHub({ apiBudget: { timeMs: 0 } }, async (hub) => {
		const t0 = 1_700_000_000_000;
		for (let i = 0; i < 3; i++) {
			await hub.storage.profiles.insertWindow(
				profileWindow('box', t0 + i * 10_000, userFrames('app', 'main'), [{ pid: 1, comm: 'app', stack: [0], weight: 1 }]),
			);
		}
		const input = encodeURIComponent(JSON.stringify({ fromMs: t0, toMs: t0 + 30_000, minFraction: 0 }));
		assert.equal((await call(hub, `/trpc/profile.flame?input=${input}`)).status, 503);
		// The answer may go out before the abandoned query reaches the store: wait for the count.
		const deadline = Date.now() + 30_000;
		for (;;) {
			const metrics = (await call(hub, '/metrics')).body;
			if (/firesight_hub_api_queries_aborted_total 1\b/.test(metrics)) break;
			assert.ok(
				Date.now() < deadline,
				`no aborted query counted:\n${metrics
					.split('\n')
					.filter((l) => l.includes('api_'))
					.join('\n')}`,
			);
			await new Promise((r) => setTimeout(r, 50));
		}
	});
});

test('with --tls-cert/--tls-key the hub serves HTTPS and WSS, and the session cookie is Secure', async () => {
	const { dir, cert: certFile, key: keyFile, remove } = makeCert();
	const ca = readFileSync(certFile);
	try {
		await withHub({ auth: true, tls: { certFile, keyFile } }, async (hub) => {
			assert.match(hub.url, /^https:\/\/127\.0\.0\.1:\d+$/);
			assert.equal((await call(hub, '/healthz', { ca })).status, 200);
			assert.equal((await call(hub, '/trpc/hosts.list', { ca })).status, 401);
			const ok = await login(hub, TOKEN, { ca });
			assert.match(String(ok.headers['set-cookie']), /; Secure/);
			assert.equal(await upgrade(wsUrl(hub, '/ingest'), bearer, ca), 101);
			assert.match(wsUrl(hub, '/ingest'), /^wss:/);
		});
		await assert.rejects(
			withHub({ tls: { certFile: join(dir, 'missing.pem'), keyFile } }, async () => {}),
			(err: Error) => err instanceof HubConfigError && /cannot read the TLS certificate .*ENOENT/.test(err.message),
		);
	} finally {
		remove();
	}
});
