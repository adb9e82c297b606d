import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requestRecord } from '@firesight/testing/request-records';
import { startHub } from '@firesight/web/server';
import { HubStream } from '../hub-stream.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'firesight.js');
const run = promisify(execFile);

test('firesight query requests: --json lines, a table, --help, and one-line usage errors', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-cli-req-'));
	const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir: dir, token: 't', web: false, log: () => {} });
	const stream = new HubStream({ hub: hub.url, token: 't', hello: { host: 'box', version: 't', frequencyHz: 99 } });
	try {
		const now = Date.now();
		const base = requestRecord({
			ts: now - 1000,
			pid: 4242,
			path: '/items/1?q=REDACTED',
			endpoint: '/items/:id',
			latencyMs: 1.25,
			reqBytes: 90,
			respBytes: 300,
			local: '127.0.0.1:8443',
			remote: '127.0.0.1:50123',
			connection: '4242:20:1',
			requestHeaders: [['authorization', 'REDACTED']],
		});
		stream.send({
			type: 'requests',
			batch: {
				host: 'box',
				ts: now,
				omitted: 0,
				requests: [
					base,
					{ ...base, ts: now - 500, pid: 77, comm: 'curl', role: 'client', status: 404, method: 'POST', path: '/x' },
					{ ...base, ts: now - 3_600_000 },
				],
			},
		});
		await stream.close(2000);
		const hubArg = ['--hub', hub.url];

		const json = await run(process.execPath, [BIN, 'query', 'requests', '--since', '5m', '--json', ...hubArg]);
		const lines = json.stdout
			.trim()
			.split('\n')
			.map((l) => JSON.parse(l));
		assert.deepEqual(lines, [
			{
				ts: now - 1000,
				pid: 4242,
				comm: 'node',
				method: 'GET',
				path: '/items/1?q=REDACTED',
				status: 200,
				latencyMs: 1.25,
				reqBytes: 90,
				respBytes: 300,
				local: '127.0.0.1:8443',
				remote: '127.0.0.1:50123',
			},
			{
				ts: now - 500,
				pid: 77,
				comm: 'curl',
				method: 'POST',
				path: '/x',
				status: 404,
				latencyMs: 1.25,
				reqBytes: 90,
				respBytes: 300,
				local: '127.0.0.1:8443',
				remote: '127.0.0.1:50123',
			},
		]);
		const onePid = await run(process.execPath, [BIN, 'query', 'requests', '--pid', '77', '--json', ...hubArg]);
		assert.equal(onePid.stdout.trim().split('\n').length, 1);

		const text = await run(process.execPath, [BIN, 'query', 'requests', ...hubArg]);
		const rows = text.stdout.trim().split('\n');
		assert.match(rows[0]!, /^TIME\s+PID\s+COMMAND\s+ROLE\s+METHOD\s+PATH\s+STATUS\s+MS/);
		assert.equal(rows.length, 3);
		assert.match(rows[2]!, /\s77\s+curl\s+client\s+POST\s+\/x\s+404\s+1\.25\s/);

		const help = await run(process.execPath, [BIN, 'query', 'requests', '--help']);
		assert.match(help.stdout, /Usage: firesight query requests/);
		for (const bad of [['--pid', 'abc'], ['--since', 'soon'], ['--frobnicate']]) {
			const r = await run(process.execPath, [BIN, 'query', 'requests', ...bad, ...hubArg]).then(
				() => null,
				(e: { code: number; stderr: string }) => e,
			);
			assert.ok(r, `${bad.join(' ')} fails`);
			assert.equal(r.code, 2);
			assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
		}
	} finally {
		await stream.close(0);
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	}
});
