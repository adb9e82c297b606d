import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@firesight/api';
import type { HubReply, RequestRecord } from '@firesight/protocol';
import { startHub } from './index.ts';

const TOKEN = 'redaction-token';

test('the hub redacts the default secret headers and the names it was given before storing requests', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-redact-'));
	const hub = await startHub({
		listen: { host: '127.0.0.1', port: 0 },
		dataDir: dir,
		token: TOKEN,
		web: false,
		log: () => {},
		redactHeaders: ['X-Signature'],
	});
	const ws = new WebSocket(hub.url.replace(/^http/, 'ws') + '/ingest', { headers: { authorization: `Bearer ${TOKEN}` } });
	try {
		const replies: HubReply[] = [];
		ws.on('message', (d) => replies.push(JSON.parse(d.toString()) as HubReply));
		await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
		const now = Date.now();
		const request: RequestRecord = {
			ts: now - 5,
			pid: 9,
			comm: 'api',
			role: 'server',
			method: 'GET',
			path: '/v1/items',
			endpoint: '/v1/items',
			status: 200,
			latencyMs: 1,
			reqBytes: 10,
			respBytes: 20,
			local: '127.0.0.1:8443',
			remote: '127.0.0.1:40000',
			connection: '9:3:1',
			httpVersion: '1.1',
			requestHeaders: [
				['X-Api-Key', 'k-secret'],
				['X-Upstream-Token', 't-secret'],
				['X-Signature', 'sig-secret'],
				['Accept', 'application/json'],
			],
			responseHeaders: [
				['X-Session-Id', 's-secret'],
				['Content-Type', 'application/json'],
			],
		};
		ws.send(JSON.stringify({ type: 'hello', host: 'box', version: 't', frequencyHz: 99 }));
		ws.send(JSON.stringify({ type: 'requests', batch: { host: 'box', ts: now, requests: [request], omitted: 0 } }));
		for (const deadline = Date.now() + 10_000; replies.length < 2;) {
			assert.ok(Date.now() < deadline, 'no ack');
			await new Promise((r) => setTimeout(r, 20));
		}
		assert.deepEqual(
			replies.map((r) => r.type),
			['ack', 'ack'],
		);
		const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${hub.url}/trpc` })] });
		const [stored] = await api.requests.list.query({ sinceMs: 0, limit: 5 });
		assert.deepEqual(stored?.requestHeaders, [
			['X-Api-Key', 'REDACTED'],
			['X-Upstream-Token', 'REDACTED'],
			['X-Signature', 'REDACTED'],
			['Accept', 'application/json'],
		]);
		assert.deepEqual(stored?.responseHeaders, [
			['X-Session-Id', 'REDACTED'],
			['Content-Type', 'application/json'],
		]);
	} finally {
		ws.terminate();
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	}
});

test('every command line a browser gets on /live was redacted, the first time and every time after', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-redact-'));
	const hub = await startHub({
		listen: { host: '127.0.0.1', port: 0 },
		dataDir: dir,
		token: TOKEN,
		web: false,
		log: () => {},
		redactHeaders: ['X-Signature'],
	});
	const ws = new WebSocket(hub.url.replace(/^http/, 'ws') + '/ingest', { headers: { authorization: `Bearer ${TOKEN}` } });
	const page = new WebSocket(hub.url.replace(/^http/, 'ws') + '/live');
	try {
		const rows: { pid: number; cmdline: string }[][] = [];
		page.on('message', (d) => {
			const m = JSON.parse(d.toString()) as { type: string; rows?: { pid: number; cmdline: string }[] };
			if (m.type === 'processes' && m.rows) rows.push(m.rows);
		});
		await Promise.all([ws, page].map((s) => new Promise((resolve, reject) => (s.once('open', resolve), s.once('error', reject)))));
		ws.send(JSON.stringify({ type: 'hello', host: 'box', version: 't', frequencyHz: 99 }));
		// A collector that did not redact (old or buggy): the same secrets come every second, and
		// a process changes its command line in the third message.
		const cmdlines = (round: number) => [
			'curl -H X-Api-Key:k-secret https://h/',
			'worker --password=pw-secret',
			round < 2 ? 'signer -H X-Signature:sig-secret' : 'signer -H X-Signature:sig-secret-2 --token t-secret',
		];
		const rounds = 4;
		for (let round = 0; round < rounds; round++) {
			const processes = cmdlines(round).map((cmdline, i) => ({ pid: 10 + i, comm: 'x', cmdline, cpuPercent: 0, samplesPerSec: 0 }));
			ws.send(JSON.stringify({ type: 'live', stats: { host: 'box', ts: Date.now(), frequencyHz: 99, processes, drops: {} } }));
			for (const deadline = Date.now() + 30_000; rows.length <= round;) {
				assert.ok(Date.now() < deadline, `round ${round} never reached the browser`);
				await new Promise((r) => setTimeout(r, 20));
			}
		}
		assert.equal(rows.length, rounds);
		for (const [round, got] of rows.entries()) {
			const text = got.map((r) => r.cmdline).join('\n');
			assert.doesNotMatch(text, /secret/, `round ${round}`);
			assert.equal(got.length, 3);
		}
		assert.deepEqual(
			rows[3]!.map((r) => r.cmdline),
			['curl -H X-Api-Key:REDACTED https://h/', 'worker --password=REDACTED', 'signer -H X-Signature:REDACTED --token REDACTED'],
		);
	} finally {
		ws.terminate();
		page.terminate();
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	}
});
