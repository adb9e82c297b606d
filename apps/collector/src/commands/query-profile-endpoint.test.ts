import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { fromPprof } from '@firesight/profile';
import { startHubProcess, type HubProcess } from '@firesight/testing/hub-process';
import { profileWindow, userFrames } from '@firesight/testing/profile-windows';
import { HubStream } from '../hub-stream.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'firesight.js');
const run = promisify(execFile);

/** exit code and stderr of a run expected to fail. */
async function failure(args: string[]): Promise<{ code: number; stderr: string }> {
	try {
		await run(process.execPath, [BIN, ...args]);
	} catch (err) {
		const e = err as { code: number; stderr: string };
		return { code: e.code, stderr: e.stderr };
	}
	throw new Error(`firesight ${args.join(' ')} succeeded`);
}

test('query profile --endpoint: a bad endpoint is one line and exit code 2; --help says the form', async () => {
	for (const bad of ['/api/users/:id', 'GET', 'get /x', 'GET  /x', `GET /${'x'.repeat(300)}`]) {
		const { code, stderr } = await failure(['query', 'profile', '--endpoint', bad]);
		assert.equal(code, 2, bad);
		assert.equal(stderr.trim().split('\n').length, 1, stderr);
		assert.match(stderr, /--endpoint must be/);
		assert.doesNotMatch(stderr, /\bat .*\.ts:\d+/);
	}
	const help = await run(process.execPath, [BIN, 'query', 'profile', '--help']);
	assert.match(help.stdout, /--endpoint EP/);
	assert.match(help.stdout, /'GET \/api\/users\/:id'/);
});

test('query profile --endpoint and --request: only the attributed samples, folded and pprof with the label', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-cli-endpoint-'));
	let hubProc: HubProcess | undefined;
	let stream: HubStream | undefined;
	try {
		hubProc = await startHubProcess(BIN, dir);
		const { url: hub, token } = hubProc;
		stream = new HubStream({ hub, token, hello: { host: 'cli', version: 't', frequencyHz: 99 } });
		stream.send({
			type: 'profile',
			window: profileWindow(
				'cli',
				Date.now() - 5000,
				userFrames('srv', 'main', 'getUser', 'createOrder', 'gc'),
				[
					{ pid: 321, comm: 'srv', stack: [0, 1], weight: 40, endpoint: 'GET /api/users/:id' },
					{ pid: 321, comm: 'srv', stack: [0, 1], weight: 3, endpoint: 'GET /api/users/:id', requestId: 'boot:17' },
					{ pid: 321, comm: 'srv', stack: [0, 2], weight: 9, endpoint: 'POST /api/orders' },
					{ pid: 321, comm: 'srv', stack: [0, 3], weight: 5 },
					{ pid: 654, comm: 'srv', stack: [0, 1], weight: 7, endpoint: 'GET /api/users/:id' },
				],
				{ durationMs: 5000, frequencyHz: 99 },
			),
		});
		await stream.close(2000);
		assert.equal(stream.counters.sent.window, 1);

		const base = ['query', 'profile', '--since', '1m', '--hub', hub];
		const folded = await run(process.execPath, [BIN, ...base, '--endpoint', 'GET /api/users/:id', '--pid', '321']);
		assert.equal(folded.stdout, 'srv;main;getUser 43\n');
		const request = await run(process.execPath, [BIN, ...base, '--request', 'boot:17']);
		assert.equal(request.stdout, 'srv;main;getUser 3\n');
		const none = await run(process.execPath, [BIN, ...base, '--endpoint', 'GET /nothing']);
		assert.equal(none.stdout, '');
		assert.match(none.stderr, /no samples in the last 1m for endpoint GET \/nothing/);

		const file = join(dir, 'users.pb.gz');
		await run(process.execPath, [BIN, ...base, '-e', 'GET /api/users/:id', '--format', 'pprof', '--output', file]);
		const profile = fromPprof(readFileSync(file));
		assert.ok(profile);
		assert.deepEqual(profile.samples.map((s) => [s.pid, s.endpoint, s.requestId ?? null, s.weight]).sort(), [
			[321, 'GET /api/users/:id', null, 40],
			[321, 'GET /api/users/:id', 'boot:17', 3],
			[654, 'GET /api/users/:id', null, 7],
		]);
	} finally {
		await stream?.close(0);
		hubProc?.kill();
		rmSync(dir, { recursive: true, force: true });
	}
});
