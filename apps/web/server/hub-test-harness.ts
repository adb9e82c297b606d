import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import type { HubReply } from '@firesight/protocol';
import { startHub, type Hub, type HubOptions } from './index.ts';

/**
 * The hub tests' hub: API only, on a free loopback port, a throw-away data directory, silent
 * unless `options.log` says otherwise. Closed and its directory removed after `fn`, whatever happens.
 */
export async function withTestHub(options: Partial<HubOptions> & { token: string }, fn: (hub: Hub) => Promise<void>): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-hub-test-'));
	const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir: dir, web: false, log: () => {}, ...options });
	try {
		await fn(hub);
	} finally {
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	}
}

export const wsUrl = (hub: Hub, path: string): string => hub.url.replace(/^http/, 'ws') + path;

/** The HTTP status of a WebSocket upgrade: 101 when accepted. */
export function upgradeStatus(url: string, headers: Record<string, string>, ca?: Buffer): Promise<number> {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(url, { headers, ...(ca ? { ca } : {}) });
		ws.on('unexpected-response', (_req, res) => {
			resolve(res.statusCode ?? 0);
			ws.terminate();
		});
		ws.on('open', () => {
			resolve(101);
			ws.close();
		});
		ws.on('error', (err) => {
			if (!String(err.message).includes('Unexpected server response')) reject(err);
		});
	});
}

/** A collector's connection to /ingest whose `send` resolves with the hub's reply to that message. */
export class TestCollector {
	readonly ws: WebSocket;
	/** The close code, once the hub or the test closed the connection. */
	readonly closeCode: Promise<number>;
	closed = false;
	readonly #replies: HubReply[] = [];
	#wake: (() => void) | undefined;

	private constructor(ws: WebSocket) {
		this.ws = ws;
		ws.on('message', (d) => {
			this.#replies.push(JSON.parse(d.toString()) as HubReply);
			this.#wake?.();
		});
		this.closeCode = new Promise((resolve) =>
			ws.on('close', (code) => {
				this.closed = true;
				this.#wake?.();
				resolve(code);
			}),
		);
	}

	/** Connects with `token`; no hello is sent. */
	static async open(hub: Hub, token: string): Promise<TestCollector> {
		const ws = new WebSocket(wsUrl(hub, '/ingest'), { headers: { authorization: `Bearer ${token}` } });
		const collector = new TestCollector(ws);
		await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
		// After a refused message the hub may close with an error code; the test reads closeCode.
		ws.on('error', () => {});
		return collector;
	}

	/** Sends `data` and resolves with the next reply; fails if the hub closes first or says nothing for 60 s. */
	async send(data: string | Buffer): Promise<HubReply> {
		this.ws.send(data);
		const deadline = Date.now() + 60_000;
		while (this.#replies.length === 0) {
			assert.ok(!this.closed, 'the hub closed the connection');
			assert.ok(Date.now() < deadline, 'no reply from the hub within 60 s');
			await new Promise<void>((r) => {
				this.#wake = r;
				setTimeout(r, 100);
			});
		}
		return this.#replies.shift()!;
	}
}
