import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { fromPprof } from '@firesight/profile';
import { ephemeralPort, startHubProcess, type HubProcess } from '@firesight/testing/hub-process';
import { kernelFrame, profileWindow, userFrames } from '@firesight/testing/profile-windows';
import { UsageError, UserError } from '../command.ts';
import { HubStream } from '../hub-stream.ts';
import { query } from './query.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'firesight.js');
const run = promisify(execFile);

test('bad arguments are usage errors; an absent hub is a user error', async () => {
	await assert.rejects(query.run([]), UsageError);
	await assert.rejects(query.run(['flames']), /unknown query 'flames'/);
	await assert.rejects(query.run(['profile', '--since', 'soon']), UsageError);
	await assert.rejects(query.run(['profile', '--pid', 'abc']), UsageError);
	await assert.rejects(query.run(['profile', '--format', 'svg']), /--format must be pprof or folded/);
	const port = await ephemeralPort();
	await assert.rejects(query.run(['profile', '--hub', `127.0.0.1:${port}`]), (err: Error) => {
		assert.ok(err instanceof UserError);
		assert.match(err.message, new RegExp(`cannot reach the hub at http://127.0.0.1:${port} \\(ECONNREFUSED\\)`));
		return true;
	});
});

test('firesight hub serves what a collector sends to firesight query, and stops on SIGINT', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-cli-'));
	let hubProc: HubProcess | undefined;
	let stream: HubStream | undefined;
	try {
		const hub = await startHubProcess(BIN, dir);
		hubProc = hub;
		const { url, token } = hub;
		assert.match(hub.output(), new RegExp(`Firesight hub on ${url}`));
		assert.ok(token.length >= 16);

		stream = new HubStream({ hub: url, token, hello: { host: 'cli', version: 't', frequencyHz: 99 } });
		const now = Date.now();
		stream.send({
			type: 'profile',
			window: profileWindow(
				'cli',
				now - 5000,
				userFrames('w', 'main', 'spin', kernelFrame('sys_write')),
				[
					{ pid: 321, comm: 'w', stack: [0, 1], weight: 40 },
					{ pid: 321, comm: 'w', stack: [0, 2], weight: 2 },
					{ pid: 999, comm: 'x', stack: [0], weight: 5 },
				],
				{ durationMs: 5000, frequencyHz: 99 },
			),
		});
		await stream.close(2000);
		assert.equal(stream.counters.sent.window, 1);

		const folded = await run(process.execPath, [BIN, 'query', 'profile', '--since', '1m', '--pid', '321', '--hub', url]);
		assert.equal(folded.stdout, 'w;main;spin 40\nw;main;sys_write_[k] 2\n');

		const file = join(dir, 'out.pb.gz');
		await run(process.execPath, [BIN, 'query', 'profile', '--since', '1m', '--comm', 'x', '--output', file, '--hub', url]);
		const profile = fromPprof(readFileSync(file));
		assert.ok(profile);
		assert.deepEqual(
			profile.samples.map((s) => [s.pid, s.weight]),
			[[999, 5]],
		);

		const exited = new Promise<number | null>((r) => hub.child.once('exit', (code) => r(code)));
		hub.child.kill('SIGINT');
		assert.equal(await exited, 0);
	} finally {
		await stream?.close(0);
		hubProc?.kill();
		rmSync(dir, { recursive: true, force: true });
	}
});
