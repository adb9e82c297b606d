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
	const hub = await startHub({
		listen: { host: '127.0.0.1', port: 0 },
		dataDir: dir,
		token,
		web: false,
		metricsPublic: true,
		log: () => {},
	});
	t.after(async () => {
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	});
	return hub;
}

/**
 * Starts `firesight collector`, collecting what it says on stderr. Its spool is its own: the
 * default one is the host's, where an earlier run may have left messages to send.
 */
function startCollector(t: { after(fn: () => void): void }, args: string[]) {
	const spool = mkdtempSync(join(tmpdir(), 'firesight-collector-auth-spool-'));
	const child = spawn(process.execPath, [BIN, 'collector', '--spool', spool, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
	t.after(() => {
		child.kill('SIGKILL');
		rmSync(spool, { recursive: true, force: true });
	});
	let stderr = '';
	child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
	const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
	return { child, exited, stderr: () => stderr };
}

test('a collector whose token the hub refuses stops with a clear message and exit code 3', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const hub = await hubWithToken(t, 'the-right-token');
	const collector = startCollector(t, ['--hub', hub.url, '--token', 'a-wrong-token', '--window', '1s']);
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
	const collector = startCollector(t, ['--hub', hub.url, '--token', 'a-wrong-token', '--window', '1s', '--retry-auth']);
	// The hub counts each refused attempt: wait until it has seen several.
	const deadline = Date.now() + 90_000;
	for (let refused = 0; refused < 3; await new Promise((r) => setTimeout(r, 200))) {
		assert.ok(Date.now() < deadline, `only ${refused} refused attempts within 90 s: ${collector.stderr()}`);
		assert.equal(collector.child.exitCode, null, `still running: ${collector.stderr()}`);
		const metrics = await (await fetch(`${hub.url}/metrics`)).text();
		refused = Number(/^firesight_hub_ingest_unauthorized_total (\d+)/m.exec(metrics)?.[1] ?? 0);
	}
	assert.equal(collector.child.exitCode, null, 'still running');
	collector.child.kill('SIGTERM');
	assert.equal(await collector.exited, exitCodes.ok, collector.stderr());
});
