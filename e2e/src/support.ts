import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostStatus } from '@firesight/protocol';
import type { Page } from 'playwright-core';

export const RESULTS_DIR = fileURLToPath(new URL('../test-results', import.meta.url));
/** The `firesight` CLI as installed from the collector package. */
export const firesightBin = fileURLToPath(import.meta.resolve('@firesight/collector/bin/firesight.js'));

export { freePort } from '@firesight/testing/free-port';

/** Thrown from a waitFor probe to stop waiting at once (the thing waited for can no longer happen). */
export class FatalError extends Error {}

export async function waitFor<T>(
	what: string,
	probe: () => Promise<T | null | undefined | false>,
	timeoutMs: number,
	everyMs = 200,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let lastError: unknown;
	for (;;) {
		try {
			const value = await probe();
			if (value) return value;
		} catch (error) {
			if (error instanceof FatalError) throw error;
			lastError = error;
		}
		if (Date.now() > deadline)
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
		await new Promise((r) => setTimeout(r, everyMs));
	}
}

/** The hub's hosts as its `hosts.list` answers (the api's HostInfo, with the fields read here). */
export type ListedHost = HostStatus & { lastMs: number | null };

export async function hostsList(base: string): Promise<ListedHost[]> {
	const response = await fetch(`${base}/trpc/hosts.list`);
	if (!response.ok) throw new Error(`hosts.list answered ${response.status}`);
	return ((await response.json()) as { result: { data: ListedHost[] } }).result.data;
}

export async function healthy(base: string): Promise<boolean> {
	try {
		const response = await fetch(`${base}/healthz`);
		return response.ok;
	} catch {
		return false;
	}
}

export async function screenshot(page: Page, name: string): Promise<string> {
	mkdirSync(RESULTS_DIR, { recursive: true });
	const path = join(RESULTS_DIR, `${name}.png`);
	// Let CSS transitions end and a pending canvas paint (the next animation frame) land, so the
	// picture shows what a user settles on; endless animations (a spinner, a pulse) have no end.
	// At most 2 s: a page that paints no frames (in the background) is taken as it is.
	await page.evaluate(async () => {
		const finite = document.getAnimations().filter((a) => a.effect?.getComputedTiming().endTime !== Infinity);
		const settled = Promise.all(finite.map((a) => a.finished.catch(() => undefined))).then(
			() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))),
		);
		await Promise.race([settled, new Promise((done) => setTimeout(done, 2000))]);
	});
	await page.screenshot({ path, fullPage: true });
	return path;
}

/** The percentage at the start of the search share text, e.g. "60.1% of samples match …". */
export function parseShare(text: string): number {
	const match = /([\d.]+)%/.exec(text);
	if (!match?.[1]) throw new Error(`no percentage in ${JSON.stringify(text)}`);
	return Number(match[1]);
}

export interface UpProcess {
	child: ChildProcess;
	output(): string;
	stop(): Promise<void>;
}

/**
 * `firesight up` started and serving /healthz (the 2 s windows the e2e tests use unless told
 * otherwise); it fails at once, with its output, if the process exits first.
 */
export async function startUpHealthy(port: number, dataDir: string, extraArgs: string[] = ['--window', '2s']): Promise<UpProcess> {
	const started = startUp(port, dataDir, extraArgs);
	const base = `http://127.0.0.1:${port}`;
	try {
		await waitFor(
			'firesight up to serve /healthz',
			async () => {
				if (started.child.exitCode !== null)
					throw new FatalError(`firesight up exited with ${started.child.exitCode}:\n${started.output()}`);
				return healthy(base);
			},
			60_000,
			250,
		);
	} catch (error) {
		await started.stop();
		throw error;
	}
	return started;
}

/** `firesight up` as a user runs it, on its own port and data directory. */
export function startUp(port: number, dataDir: string, extraArgs: string[] = []): UpProcess {
	const child = spawn(process.execPath, [firesightBin, 'up', '--listen', `127.0.0.1:${port}`, ...extraArgs], {
		env: { ...process.env, FIRESIGHT_DATA: dataDir, NEXT_TELEMETRY_DISABLED: '1' },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let log = '';
	child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
	child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
	const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
	return {
		child,
		output: () => log,
		async stop() {
			if (child.exitCode !== null || child.signalCode !== null) return;
			child.kill('SIGINT');
			const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
			await exited;
			clearTimeout(timer);
		},
	};
}
