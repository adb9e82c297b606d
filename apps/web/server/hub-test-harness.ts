import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
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
