import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bpfSkip, skipUnless } from '@firesight/testing/bpf-test-gate';
import { freePort } from '@firesight/testing/free-port';
import { clickhouseRequired, clickhouseStatement, startClickhouse } from '@firesight/testing/clickhouse-server';
import { createHubClient } from './hub-client.ts';

/**
 * Issue 11's fleet in small: two collectors with their own host names stream to one hub started
 * by the real CLI with `--store`, once on SQLite and once on a real ClickHouse server. Both hosts
 * appear; each host's profile holds only its own samples, and the merged profile is their sum.
 */

const BIN = fileURLToPath(new URL('../bin/firesight.js', import.meta.url));
const TOKEN = 'fleet-test-token';
const HOSTS = ['fleet-a', 'fleet-b'] as const;
const skip = bpfSkip();

/** Waits for `probe` to answer; `gone` names a process the wait needs that has ended (then it fails at once). */
async function until<T>(what: string, probe: () => Promise<T | undefined>, gone: () => string | undefined = () => undefined): Promise<T> {
	const deadline = Date.now() + 180_000;
	for (;;) {
		const ended = gone();
		if (ended !== undefined) throw new Error(`gave up waiting for ${what}: ${ended}`);
		const value = await probe().catch(() => undefined);
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 500));
	}
}

/** A child process whose output is kept for the failure message and which is ended with the test. */
function start(t: TestContext, args: string[]): { child: ChildProcess; output: () => string } {
	const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	child.stdout!.on('data', (d: Buffer) => (output += d));
	child.stderr!.on('data', (d: Buffer) => (output += d));
	t.after(() => {
		if (child.exitCode === null) child.kill('SIGKILL');
	});
	return { child, output: () => output };
}

async function stopped(child: ChildProcess): Promise<number | null> {
	if (child.exitCode !== null) return child.exitCode;
	const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
	child.kill('SIGTERM');
	return exit;
}

/** `heldBy()` reads the backend itself, so a hub that ignored --store could not pass. */
async function fleetOn(t: TestContext, store: string, heldBy: () => Promise<boolean>): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-fleet-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const port = await freePort();
	const hubUrl = `http://127.0.0.1:${port}`;
	const hub = start(t, ['hub', '--listen', `127.0.0.1:${port}`, '--store', store, '--token', TOKEN, '--api-only']);
	await until(
		`the hub on ${store}`,
		async () => ((await fetch(`${hubUrl}/healthz`)).ok ? true : undefined),
		() => (hub.child.exitCode !== null ? `the hub exited with code ${hub.child.exitCode}: ${hub.output()}` : undefined),
	);

	const startMs = Date.now();
	const collectors = HOSTS.map((host) =>
		start(t, ['collector', '--hub', hubUrl, '--token', TOKEN, '--host', host, '--window', '2s', '--spool', join(dir, host)]),
	);
	const api = createHubClient(hubUrl, TOKEN);
	const samples = async (host?: string | string[]) =>
		(await api.profile.folded.query({ fromMs: startMs - 60_000, toMs: Date.now() + 60_000, ...(host === undefined ? {} : { host }) }))
			.totalSamples;
	// A collector's first windows are empty until the running processes' unwind tables are loaded.
	await until(
		'stored windows with samples from each host',
		async () => {
			const hosts = await api.hosts.list.query();
			if (!HOSTS.every((h) => (hosts.find((x) => x.host === h)?.windows ?? 0) >= 2)) return undefined;
			for (const h of HOSTS) if ((await samples(h)) === 0) return undefined;
			return true;
		},
		() => {
			const ended = [hub, ...collectors].find((c) => c.child.exitCode !== null);
			return ended && `a process exited with code ${ended.child.exitCode}: ${ended.output()}`;
		},
	);
	// SIGTERM sends each collector's last window; its spool empties once the hub has stored it.
	for (const c of collectors) assert.equal(await stopped(c.child), 0, c.output());

	const [a, b] = [await samples(HOSTS[0]), await samples(HOSTS[1])];
	assert.ok(a > 0 && b > 0, `each host has samples of its own (${a}, ${b})`);
	assert.equal(await samples(), a + b, 'the whole fleet merges both hosts, nothing more');
	assert.equal(await samples([...HOSTS]), a + b, 'selecting both hosts merges them');
	const listed = (await api.hosts.list.query()).map((h) => h.host);
	assert.deepEqual(
		listed.filter((h) => h.startsWith('fleet-')),
		[...HOSTS],
	);
	assert.equal(await stopped(hub.child), 0, hub.output());
	assert.ok(await heldBy(), `the windows are in ${store}`);
}

test('two collectors feed one hub on SQLite: both hosts appear, apart and merged', { skip, timeout: 600_000 }, async (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-fleet-sqlite-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	await fleetOn(t, `sqlite:${dir}/`, async () => existsSync(join(dir, 'firesight.db')));
});

test('two collectors feed one hub on ClickHouse: both hosts appear, apart and merged', { skip, timeout: 900_000 }, async (t) => {
	const started = await startClickhouse();
	if ('reason' in started) {
		if (clickhouseRequired()) throw new Error(started.reason);
		skipUnless(t, started.reason);
		return;
	}
	t.after(() => started.server.stop());
	const { server } = started;
	await fleetOn(t, server.url, async () => {
		const db = new URL(server.url).pathname.slice(1);
		const hosts = await clickhouseStatement(server, `SELECT DISTINCT host FROM ${db}.profile_windows ORDER BY host FORMAT TabSeparated`);
		return hosts.trim() === HOSTS.join('\n');
	});
});
