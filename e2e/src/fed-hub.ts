import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { WebSocket } from 'ws';
import type { CollectorMessage, ProfileWindow } from '@firesight/protocol';
import { startHub, type Hub } from '@firesight/web/server';
import { launchChromium } from './browser.ts';
import { freePort } from './support.ts';

/** A hub fed as one collector feeds it, and Chromium to read its pages. */
export interface FedHub {
	hub: Hub;
	browser: Browser;
	close(): Promise<void>;
}

/**
 * A hub in this process (with a token, its data in a temp dir), fed through its real /ingest by
 * a connection that says hello as the collector of `host` at 99 Hz and then sends `messages`;
 * and Chromium. For pages whose data a test writes itself: no BPF needed.
 */
export async function startFedHub(host: string, messages: CollectorMessage[]): Promise<FedHub> {
	const token = randomBytes(16).toString('hex');
	const dir = mkdtempSync(join(tmpdir(), 'firesight-e2e-fed-hub-'));
	let hub: Hub | undefined;
	let collector: WebSocket | undefined;
	let browser: Browser | undefined;
	const close = async () => {
		collector?.close();
		await browser?.close();
		await hub?.close();
		rmSync(dir, { recursive: true, force: true });
	};
	try {
		hub = await startHub({ listen: { host: '127.0.0.1', port: await freePort() }, dataDir: dir, token, log: () => {} });
		const ws = new WebSocket(`${hub.url.replace(/^http/, 'ws')}/ingest`, { headers: { authorization: `Bearer ${token}` } });
		collector = ws;
		await new Promise((resolve, reject) => {
			ws.once('open', resolve);
			ws.once('error', reject);
		});
		const hello: CollectorMessage = { type: 'hello', host, version: 'e2e', frequencyHz: 99, protocol: 1 };
		for (const m of [hello, ...messages]) ws.send(JSON.stringify(m));
		browser = await launchChromium();
		return { hub, browser, close };
	} catch (err) {
		await close();
		throw err;
	}
}

/** A 10 s window at 99 Hz of `host`, its frames user frames of `module`, by name. */
export function profileWindow(
	host: string,
	startMs: number,
	module: string,
	frames: string[],
	samples: ProfileWindow['samples'],
): ProfileWindow {
	return {
		host,
		startMs,
		durationMs: 10_000,
		frequencyHz: 99,
		frames: frames.map((name) => ({ name, module, kind: 'user' as const })),
		samples,
	};
}
