import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ephemeralPort } from '@firesight/testing/hub-process';
import { hub, hubAccess, hubOptions } from './hub.ts';
import type { ParsedOptions } from '../command.ts';

const BIN = fileURLToPath(new URL('../../bin/firesight.js', import.meta.url));

/** `firesight hub --api-only` on loopback with these arguments; what it printed once it listens. */
async function startCliHub(
	t: test.TestContext,
	args: string[],
): Promise<{ url: string; stdout: () => string; stop: () => Promise<{ code: number | null; stderr: string }> }> {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-hub-access-'));
	const port = await ephemeralPort();
	const child = spawn(process.execPath, [BIN, 'hub', '--api-only', '--listen', `127.0.0.1:${port}`, '--data', dir, ...args], {
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let out = '';
	let err = '';
	child.stdout.on('data', (d) => (out += d));
	child.stderr.on('data', (d) => (err += d));
	t.after(async () => {
		if (child.exitCode === null) {
			child.kill('SIGINT');
			await new Promise((r) => child.once('exit', r));
		}
		rmSync(dir, { recursive: true, force: true });
	});
	await new Promise<void>((resolve, reject) => {
		child.once('exit', (code) => reject(new Error(`hub exited with ${code}: ${err}`)));
		child.stdout.on('data', () => out.includes('Connect a collector') && resolve());
	});
	const stop = async () => {
		const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
		child.kill('SIGINT');
		return { code: await exited, stderr: err };
	};
	return { url: `http://127.0.0.1:${port}`, stdout: () => out, stop };
}

test('a token the user gives guards every door on loopback too, and is not printed; a made-up one leaves loopback open', async (t) => {
	const token = 'users-own-token-1';
	const guarded = await startCliHub(t, ['--token', token]);
	for (const path of ['/trpc/hosts.list', '/metrics', '/api/pprof?from=0&to=1', '/live']) {
		assert.equal((await fetch(`${guarded.url}${path}`)).status, 401, `${path} without the token`);
	}
	const withToken = await fetch(`${guarded.url}/trpc/hosts.list`, { headers: { authorization: `Bearer ${token}` } });
	assert.equal(withToken.status, 200);
	assert.equal((await fetch(`${guarded.url}/healthz`)).status, 200, 'health checks need no token');
	assert.ok(!guarded.stdout().includes(token), `the token is not printed: ${guarded.stdout()}`);

	const open = await startCliHub(t, []);
	assert.match(open.stdout(), /Collector token: \S+/, 'a token made for the run is printed for collectors');
	assert.equal((await fetch(`${open.url}/trpc/hosts.list`)).status, 200, 'loopback without a token of the user: browsers get in');
});

test('--redact-header adds header names to what the hub redacts; a name that is no header name is refused', () => {
	const parse = (argv: string[]) => hub.parse(argv, {}) as ParsedOptions<typeof hubOptions>;
	assert.deepEqual(hubAccess(parse(['--redact-header', 'X-Signature', '--redact-header', 'X-Upstream-Auth'])).redactHeaders, [
		'X-Signature',
		'X-Upstream-Auth',
	]);
	assert.deepEqual(hubAccess(parse([])).redactHeaders, []);
	assert.throws(() => parse(['--redact-header', 'two words']), /--redact-header must be a header name/);
});

test('the hub logs to stderr in JSON lines with a time and a level, when stderr is not a terminal', async (t) => {
	const hub = await startCliHub(t, []);
	const { code, stderr } = await hub.stop();
	assert.equal(code, 0, stderr);
	const lines = stderr.split('\n').filter((l) => l !== '');
	assert.ok(
		lines.some((l) => /stopping/.test(l)),
		stderr,
	);
	for (const line of lines) {
		const record = JSON.parse(line) as { time?: unknown; level?: unknown; name?: unknown; msg?: unknown };
		assert.match(String(record.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, line);
		assert.equal(typeof record.level, 'number', line);
		assert.equal(record.name, 'hub', line);
	}
});
