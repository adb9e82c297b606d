import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { toPprof } from '@firesight/profile';
import { profileWindow, userFrames } from '@firesight/testing/profile-windows';
import { startHub } from '@firesight/web/server';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'firesight.js');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
	return new Promise((resolve) => {
		execFile(process.execPath, [BIN, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
			resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
		});
	});
}

test('firesight share prints a link to a snapshot, share delete removes it, import prints the link of a file; bad files exit 2', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-share-cli-'));
	const hub = await startHub({
		listen: { host: '127.0.0.1', port: 0 },
		dataDir: join(dir, 'data'),
		token: 'share-cli-token',
		auth: false,
		web: false,
		log: () => {},
	});
	try {
		const now = Date.now();
		await hub.storage.profiles.insertWindow(
			profileWindow('h1', now - 60_000, userFrames('app', 'main', 'hot_function'), [
				{ pid: 7, comm: 'app', stack: [0, 1], weight: 40 },
				{ pid: 8, comm: 'sh', stack: [0], weight: 2 },
				{ pid: 9, comm: 'other', stack: [0], weight: 5 },
			]),
		);

		const made = await cli(['share', '--since', '1h', '--pid', '7', '--pid', '8', '--hub', hub.url]);
		assert.equal(made.code, 0, made.stderr);
		const link = made.stdout.trim();
		assert.match(link, new RegExp(`^${hub.url}/s/[A-Za-z0-9_-]{22}$`));
		const id = link.slice(link.lastIndexOf('/') + 1);
		const stored = await hub.storage.shares.get(id);
		assert.equal(stored?.totalSamples, 42);
		assert.match(stored?.creator ?? '', /@/);

		const nothing = await cli(['share', '--since', '1h', '--pid', '12345', '--hub', hub.url]);
		assert.equal(nothing.code, 1);
		assert.match(nothing.stderr, /nothing to share/);
		assert.equal((await cli(['share', '--pid', 'x'])).code, 2);

		const file = join(dir, 'cpu.pb.gz');
		writeFileSync(file, toPprof(stored!.profile));
		const imported = await cli(['import', file, '--hub', hub.url]);
		assert.equal(imported.code, 0, imported.stderr);
		const importedId = imported.stdout.trim().split('/s/')[1]!;
		const importedShare = await hub.storage.shares.get(importedId);
		assert.equal(importedShare?.source.file?.name, 'cpu.pb.gz');
		assert.equal(importedShare?.creator, stored?.creator, 'the CLI names the user for an import too');

		for (const [name, body] of [
			['empty.txt', Buffer.alloc(0)],
			['junk.bin', Buffer.from([1, 2, 3, 250])],
			['bomb.gz', gzipSync(Buffer.alloc(100 * 1024 * 1024))],
		] as const) {
			writeFileSync(join(dir, name), body);
			const bad = await cli(['import', join(dir, name), '--hub', hub.url]);
			assert.equal(bad.code, 2, `${name}: ${bad.stderr}`);
			assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
			assert.match(bad.stderr, new RegExp(name.replace('.', '\\.')));
		}
		assert.equal((await cli(['import', join(dir, 'missing.pb.gz'), '--hub', hub.url])).code, 2);
		assert.equal((await hub.storage.shares.list()).length, 2);

		assert.equal((await cli(['share', 'delete', id, '--hub', hub.url])).code, 0);
		assert.equal(await hub.storage.shares.get(id), null);
		const again = await cli(['share', 'delete', id, '--hub', hub.url]);
		assert.equal(again.code, 1);
		assert.match(again.stderr, /no share with id/);
	} finally {
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	}
});
