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
async function startCliHub(t: test.TestContext, args: string[]): Promise<{ url: string; stdout: () => string }> {
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
	return { url: `http://127.0.0.1:${port}`, stdout: () => out };
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
