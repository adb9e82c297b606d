/**
 * What the benchmarks that time a page of `firesight up` in headless Chromium share: the BPF
 * check, `firesight up` on a free port with a fresh data directory, the browser, a `/live` client
 * of the benchmark's own (to cut the path at the hub's fan-out), the wall clock both sides read,
 * and the percentiles they report.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { WebSocket } from 'ws';
import { launchChromium } from '@firesight/e2e/browser';
import { freePort, healthy, startUp, waitFor, type UpProcess } from '@firesight/e2e/support';
import { bpfUnavailableReason } from '@firesight/testing/bpf-test-gate';

/** The host's wall clock in ms, as a page reads it too (performance.timeOrigin + now()). */
export const wall = () => performance.timeOrigin + performance.now();

/** The p-th percentile (nearest rank) of `xs`; NaN when empty. */
export function percentile(xs: number[], p: number): number {
	const s = [...xs].sort((a, b) => a - b);
	return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
}

/** Whole milliseconds, or a dash for none. */
export const fmtMs = (x: number) => (Number.isFinite(x) ? `${Math.round(x)}` : '–');

/** Ends the benchmark with one line when BPF is not available to load `what`. */
export function exitUnlessBpf(bench: string, what: string): void {
	const unavailable = bpfUnavailableReason();
	if (unavailable === undefined) return;
	console.error(`${bench}: ${unavailable} to load ${what}`);
	process.exit(1);
}

/** A `/live` message as the benchmarks read it: its type and the hub's stamp, the rest by type. */
export type LiveMessage = { type: string; ts?: number } & Record<string, unknown>;

export interface PageHarness {
	/** The dashboard's address. */
	base: string;
	up: UpProcess;
	browser: Browser;
	/** A `/live` client, open: each message with its arrival on the wall clock. */
	live(onMessage: (msg: LiveMessage, arrival: number) => void): Promise<WebSocket>;
	/** Closes the browser and the clients, stops `firesight up` and removes its data. */
	close(): Promise<void>;
}

/** `firesight up` serving (its data in a temp dir named after the benchmark) and Chromium. */
export async function startPageHarness(bench: string): Promise<PageHarness> {
	const port = await freePort();
	const dataDir = mkdtempSync(join(tmpdir(), `firesight-bench-${bench}-`));
	const up = startUp(port, dataDir);
	const base = `http://127.0.0.1:${port}`;
	const sockets: WebSocket[] = [];
	let browser: Browser | undefined;
	const close = async () => {
		for (const s of sockets) s.close();
		await browser?.close().catch(() => {});
		await up.stop();
		rmSync(dataDir, { recursive: true, force: true });
	};
	try {
		browser = await launchChromium();
		await waitFor(
			'firesight up',
			async () => {
				if (up.child.exitCode !== null) throw new Error(`firesight up exited: ${up.output()}`);
				return healthy(base);
			},
			60_000,
		);
	} catch (err) {
		await close();
		throw err;
	}
	return {
		base,
		up,
		browser,
		async live(onMessage) {
			const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/live`);
			sockets.push(socket);
			socket.on('message', (data: Buffer) => {
				const arrival = wall();
				onMessage(JSON.parse(data.toString()) as LiveMessage, arrival);
			});
			await waitFor('a /live client', async () => socket.readyState === WebSocket.OPEN, 30_000);
			return socket;
		},
		close,
	};
}
