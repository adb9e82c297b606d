import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@firesight/api';
import { REQUEST_LATENCY_BUCKETS, type HubReply, type RequestRecord } from '@firesight/protocol';
import { startHub } from './index.ts';

const TOKEN = 'req-token';
const SECRET = `s3cret-${Math.random().toString(36).slice(2)}`;

function open(url: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; texts: string[] }> {
	const ws = new WebSocket(url, { headers });
	const texts: string[] = [];
	ws.on('message', (d) => texts.push(d.toString()));
	return new Promise((resolve, reject) => {
		ws.once('open', () => resolve({ ws, texts }));
		ws.once('error', reject);
	});
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
	const end = Date.now() + ms;
	while (!cond()) {
		if (Date.now() > end) throw new Error('timed out');
		await new Promise((r) => setTimeout(r, 10));
	}
}

test('requests are stored, served on /live and tRPC, and a secret a collector let through is redacted before storage', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-hub-req-'));
	const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir: dir, token: TOKEN, web: false, log: () => {} });
	try {
		const ws = hub.url.replace(/^http/, 'ws');
		const browser = await open(`${ws}/live`);
		const collector = await open(`${ws}/ingest`, { authorization: `Bearer ${TOKEN}` });
		const now = Date.now();
		const request: RequestRecord = {
			ts: now - 5,
			pid: 99,
			comm: 'node',
			role: 'server',
			method: 'POST',
			path: `/login?key=${SECRET}`,
			endpoint: '/login',
			status: 201,
			latencyMs: 3.25,
			reqBytes: 100,
			respBytes: 50,
			local: '127.0.0.1:8443',
			remote: '127.0.0.1:40000',
			connection: '99:21:1',
			httpVersion: '1.1',
			// As an old or buggy collector might send it: unredacted.
			requestHeaders: [
				['Authorization', `Bearer ${SECRET}`],
				['Cookie', `sid=${SECRET}`],
				['Accept', 'text/plain'],
			],
			responseHeaders: [['Set-Cookie', `sid=${SECRET}`]],
		};
		const histogram = new Array<number>(REQUEST_LATENCY_BUCKETS).fill(0);
		histogram[11] = 1;
		collector.ws.send(JSON.stringify({ type: 'hello', host: 'box', version: 't', frequencyHz: 99 }));
		collector.ws.send(JSON.stringify({ type: 'requests', batch: { host: 'box', ts: now, requests: [request], omitted: 0 } }));
		collector.ws.send(
			JSON.stringify({
				type: 'requestWindow',
				window: {
					host: 'box',
					startMs: now - 10_000,
					durationMs: 10_000,
					processes: [],
					endpoints: [
						{
							pid: 99,
							comm: 'node',
							role: 'server',
							method: 'POST',
							endpoint: '/login',
							count: 1,
							errors: 0,
							clientErrors: 0,
							reqBytes: 100,
							respBytes: 50,
							sumLatencyMs: 3.25,
							maxLatencyMs: 3.25,
							p50Ms: 3.25,
							p90Ms: 3.25,
							p99Ms: 3.25,
							histogram,
						},
					],
				},
			}),
		);
		collector.ws.send(JSON.stringify({ type: 'requests', batch: { host: 'other', ts: now, requests: [], omitted: 0 } }));
		await until(() => collector.texts.length >= 4);
		const replies = collector.texts.map((t) => JSON.parse(t) as HubReply);
		assert.deepEqual(
			replies.slice(0, 3).map((r) => r.type),
			['ack', 'ack', 'ack'],
		);
		assert.equal(replies[3]!.type, 'error', 'a batch for another host is refused');

		await until(() => browser.texts.some((t) => t.includes('"type":"requests"')));
		const live = JSON.parse(browser.texts.find((t) => t.includes('"type":"requests"'))!);
		assert.equal(live.requests[0].path, '/login?key=REDACTED');
		assert.equal('requestHeaders' in live.requests[0], false);

		const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${hub.url}/trpc` })] });
		const [stored] = await api.requests.list.query({ sinceMs: 0, limit: 5 });
		assert.equal(stored?.status, 201);
		assert.deepEqual(stored?.requestHeaders, [
			['Authorization', 'REDACTED'],
			['Cookie', 'REDACTED'],
			['Accept', 'text/plain'],
		]);
		const eps = await api.requests.endpoints.query({ fromMs: now - 60_000, toMs: now + 1 });
		assert.deepEqual(
			eps.endpoints.map((e) => [e.method, e.endpoint, e.count]),
			[['POST', '/login', 1]],
		);

		// A browser that connects later gets the recent requests as backfill.
		const late = await open(`${ws}/live`);
		await until(() => late.texts.some((t) => t.includes('"type":"requests"')));
		late.ws.close();

		const served = [...browser.texts, ...late.texts, JSON.stringify(await api.requests.list.query({ sinceMs: 0 }))].join('\n');
		assert.equal(served.includes(SECRET), false, 'the secret is not served');
		browser.ws.close();
		collector.ws.close();
		await hub.close();
		for (const f of readdirSync(dir)) {
			assert.equal(readFileSync(join(dir, f)).includes(SECRET), false, `the secret is not in ${f}`);
		}
	} finally {
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	}
});
