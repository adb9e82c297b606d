import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import fc from 'fast-check';
import { profileWindow, userFrames } from '@firesight/testing/profile-windows';
import { withTestHub } from './hub-test-harness.ts';

/**
 * The hub's HTTP doors fed what a hostile client sends: any method, path, headers and body, and
 * any query string to `/api/pprof`. Each answer is a 4xx or a success, never a 500 (the hub's
 * "internal error", logged with a stack trace).
 */

const TOKEN = 'http-fuzz-token';

test('any method, path, headers and body get an answer under 500, with or without credentials', () => {
	const logged: string[] = [];
	return withTestHub({ token: TOKEN, auth: true, log: (l) => logged.push(l) }, async (hub) => {
		const { port } = new URL(hub.url);
		const path = fc.oneof(
			fc.constantFrom('/', '/api/login', '/api/logout', '/api/pprof', '/api/import', '/metrics', '/healthz', '/trpc', '/trpc/', '/login'),
			fc.constantFrom(
				'/trpc/hosts.list',
				'/trpc/profile.flame,hosts.list?batch=1',
				'/trpc/shares.create',
				'/s/abc',
				'/s/',
				'/ingest',
				'/live',
			),
			fc.constantFrom(
				'/api/pprof?share=',
				'/api/import?name=%0a&creator=%00',
				'/trpc/profile.flame?input=%7B',
				'//',
				'/%2e%2e/',
				'/?next=%0d%0a',
			),
			fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
		);
		const header = fc.oneof(
			fc.constant(['authorization', `Bearer ${TOKEN}`] as const),
			fc.constant(['authorization', 'Bearer wrong'] as const),
			fc.constant(['cookie', 'firesight_session=abc; x=y'] as const),
			fc.constant(['origin', 'http://evil.example'] as const),
			fc.constant(['host', 'evil.example'] as const),
			fc.tuple(
				fc.constant('content-type'),
				fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain', ''),
			),
			fc.tuple(fc.constant('content-encoding'), fc.constantFrom('gzip', 'br', 'identity', 'x')),
			fc.tuple(fc.constantFrom('x-forwarded-for', 'accept', 'range', 'if-none-match'), fc.string({ maxLength: 40 })),
		);
		const body = fc.oneof(
			fc.constant(undefined),
			fc.string({ maxLength: 200 }),
			fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
			fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
			fc.constant(Buffer.from([0x1f, 0x8b, 0x08, 0x00])),
		);
		const send = (method: string, target: string, headers: Record<string, string>, payload: string | Buffer | undefined) =>
			new Promise<number | string>((resolve) => {
				// A fresh connection each: a kept-alive one the hub closed after an unread body would fail the next.
				const req = request({ host: '127.0.0.1', port, method, path: target, headers, agent: false }, (res) => {
					res.resume();
					res.on('end', () => resolve(res.statusCode ?? 0));
				});
				req.on('error', (err) => resolve(err.message));
				req.end(payload);
			});
		await fc.assert(
			fc.asyncProperty(
				fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'),
				path,
				fc.array(header, { maxLength: 4 }),
				body,
				async (method, target, headers, payload) => {
					const all: Record<string, string> = { host: `127.0.0.1:${port}` };
					for (const [name, value] of headers) if (!/[^\t\x20-\x7e]/.test(value)) all[name] = value;
					const status = await send(method, target, all, method === 'GET' || method === 'HEAD' ? undefined : payload);
					assert.ok(typeof status === 'number' && status > 0 && status < 500, `${method} ${target} ${JSON.stringify(all)} → ${status}`);
				},
			),
			{ numRuns: 1500 },
		);
		assert.deepEqual(
			logged.filter((l) => /internal|unexpected|^[A-Z]+ \//.test(l)),
			[],
		);
	});
});

test('/api/pprof: any query string gets a profile or a one-line 4xx, never a 500', () => {
	const logged: string[] = [];
	return withTestHub({ token: TOKEN, log: (l) => logged.push(l) }, async (hub) => {
		const now = Date.now();
		await hub.storage.profiles.insertWindow(
			profileWindow('box', now - 60_000, userFrames('app', 'main', 'work'), [{ pid: 7, comm: 'app', stack: [0, 1], weight: 5 }]),
		);
		const value = fc.oneof(
			fc.constantFrom(String(now - 3_600_000), String(now), '7', '0', '-1', 'NaN', 'Infinity', '1e400', '8640000000000001', '0x10', ' 5 '),
			fc.constantFrom('', 'box', 'app', 'pprof', 'folded', 'speedscope', 'GET /x', 'x'.repeat(3000), '%', '\u0000'),
			fc.string({ maxLength: 100 }),
		);
		const param = fc.tuple(
			fc.constantFrom('from', 'to', 'pid', 'comm', 'host', 'endpoint', 'request', 'share', 'format', 'pids', 'x'),
			value,
		);
		await fc.assert(
			fc.asyncProperty(fc.array(param, { maxLength: 8 }), async (pairs) => {
				const query = new URLSearchParams(pairs).toString();
				const res = await fetch(`${hub.url}/api/pprof?${query}`);
				const body = res.status === 200 ? '' : await res.text();
				const what = `?${query.slice(0, 300)} → ${res.status} ${body.slice(0, 300)}`;
				assert.ok(res.status < 500, what);
				if (res.status !== 200 && res.status !== 431)
					assert.ok(body.trim().length > 0 && !body.trim().includes('\n'), `not one line: ${what}`);
			}),
			{ numRuns: 1500 },
		);
		assert.deepEqual(
			logged.filter((l) => /internal|unexpected/i.test(l)),
			[],
		);
	});
});

test('a WebSocket upgrade to any target gets an HTTP answer or the upgrade, and the hub lives on', () =>
	withTestHub({ token: TOKEN, auth: true }, async (hub) => {
		const { port } = new URL(hub.url);
		const target = fc.oneof(
			fc.constantFrom('//', '/ingest', '/live', '//ingest', '/live?x=%00', '/%2e%2e/live', '*'),
			fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
		);
		await fc.assert(
			fc.asyncProperty(target, fc.boolean(), async (path, bearer) => {
				const answer = await new Promise<string>((resolve, reject) => {
					const req = request({
						host: '127.0.0.1',
						port,
						agent: false,
						path,
						headers: {
							host: `127.0.0.1:${port}`,
							connection: 'Upgrade',
							upgrade: 'websocket',
							'sec-websocket-version': '13',
							'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
							...(bearer ? { authorization: `Bearer ${TOKEN}` } : {}),
						},
					});
					req.on('upgrade', (_res, socket) => {
						socket.destroy();
						resolve('upgraded');
					});
					req.on('response', (res) => {
						res.resume();
						resolve(String(res.statusCode));
					});
					req.on('error', reject);
					req.end();
				});
				assert.ok(answer === 'upgraded' || Number(answer) < 500, `${path} → ${answer}`);
			}),
			{ numRuns: 300 },
		);
		assert.equal((await fetch(`${hub.url}/healthz`)).status, 200);
	}));
