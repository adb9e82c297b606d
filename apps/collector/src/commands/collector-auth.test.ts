import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { startHub, type Hub } from '@firesight/web/server';
import { exitCodes } from '../command.ts';

const BIN = fileURLToPath(new URL('../../bin/firesight.js', import.meta.url));

async function hubWithToken(t: { after(fn: () => Promise<void> | void): void }, token: string): Promise<Hub> {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-collector-auth-'));
	const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir: dir, token, web: false, log: () => {} });
	t.after(async () => {
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	});
	return hub;
}

/** Starts `firesight collector`; `until(text)` waits (generously) for its stderr to match. */
function startCollector(args: string[]) {
	const child = spawn(process.execPath, [BIN, 'collector', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
	let stderr = '';
	const waiters: (() => void)[] = [];
	child.stderr.on('data', (d: Buffer) => {
		stderr += d.toString();
		for (const w of waiters) w();
	});
	const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
	return {
		child,
		exited,
		stderr: () => stderr,
		until(pattern: RegExp, what: string): Promise<void> {
			return new Promise((resolve, reject) => {
				const timer = setTimeout(() => reject(new Error(`no ${what} within 90 s; stderr: ${stderr}`)), 90_000);
				const check = () => {
					if (pattern.test(stderr)) {
						clearTimeout(timer);
						resolve();
					}
				};
				waiters.push(check);
				check();
				void exited.then(() => {
					check();
					reject(new Error(`collector exited before ${what}; stderr: ${stderr}`));
				});
			});
		},
	};
}

test('a collector whose token the hub refuses stops with a clear message and exit code 3', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const hub = await hubWithToken(t, 'the-right-token');
	const collector = startCollector(['--hub', hub.url, '--token', 'a-wrong-token', '--window', '1s']);
	t.after(() => void collector.child.kill('SIGKILL'));
	const code = await Promise.race([
		collector.exited,
		new Promise<never>((_, reject) =>
			setTimeout(() => reject(new Error(`still running after 90 s: ${collector.stderr()}`)), 90_000).unref(),
		),
	]);
	const stderr = collector.stderr();
	assert.equal(code, exitCodes.unauthorized, stderr);
	const refusals = stderr.split('\n').filter((l) => /refused|401|unauthori[sz]ed/i.test(l));
	assert.equal(refusals.length, 1, `said once: ${stderr}`);
	assert.match(
		refusals[0]!,
		/^firesight collector: hub refused the token \(401\); check --token or \$FIRESIGHT_TOKEN \(--retry-auth keeps trying\)$/,
	);
	assert.doesNotMatch(stderr, /unreachable/);
	assert.doesNotMatch(stderr, /^\s+at /m);
});

test('with --retry-auth, a refused collector keeps trying until it is stopped', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const hub = await hubWithToken(t, 'the-right-token');
	const collector = startCollector(['--hub', hub.url, '--token', 'a-wrong-token', '--window', '1s', '--retry-auth']);
	t.after(() => void collector.child.kill('SIGKILL'));
	// The stream says so once it has been refused a few times in a row.
	await collector.until(/retrying/, 'retry message');
	assert.equal(collector.child.exitCode, null, 'still running');
	collector.child.kill('SIGTERM');
	assert.equal(await collector.exited, exitCodes.ok, collector.stderr());
});
