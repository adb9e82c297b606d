import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TargetDiscovery } from './target-discovery.ts';

const SYSTEM_LIBSSL = '/usr/lib/x86_64-linux-gnu/libssl.so.3';

test('a libssl mapped from an unusual path is found in the process maps and attached once; a process without one adds nothing', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-discovery-'));
	const lib = join(dir, 'libssl.so.3');
	copyFileSync(SYSTEM_LIBSSL, lib);
	const withSsl = spawn('sleep', ['30'], { env: { ...process.env, LD_PRELOAD: lib }, stdio: 'ignore' });
	const without = spawn('sleep', ['30'], { stdio: 'ignore' });
	try {
		// The loader maps the preloaded library before sleep's main: wait until it shows.
		const deadline = Date.now() + 10_000;
		while (!readFileSync(`/proc/${withSsl.pid}/maps`, 'utf8').includes(lib)) {
			assert.ok(Date.now() < deadline, 'the preloaded libssl never showed in the maps');
			await new Promise((r) => setTimeout(r, 20));
		}
		const attached: string[] = [];
		const added: number[] = [];
		const discovery = new TargetDiscovery({
			attachFile: (_key, path) => (attached.push(path), ['SSL_write']),
			addProcess: (pid) => added.push(pid),
		});
		discovery.scanProcess(without.pid!);
		assert.deepEqual({ attached, added }, { attached: [], added: [] });
		discovery.scanProcess(withSsl.pid!);
		discovery.scanProcess(withSsl.pid!);
		assert.deepEqual(attached, [`/proc/${withSsl.pid}/root${lib}`]);
		assert.deepEqual(added, [withSsl.pid]);
		assert.equal(discovery.isTlsProcess(withSsl.pid!), true);
		assert.equal(discovery.isTlsProcess(without.pid!), false);
	} finally {
		withSsl.kill();
		without.kill();
		rmSync(dir, { recursive: true, force: true });
	}
});
