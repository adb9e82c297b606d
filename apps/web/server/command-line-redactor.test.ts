import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import fc from 'fast-check';
import { DEFAULT_REDACTION, redactCommandLine, redactionRules } from '@firesight/protocol';
import { CommandLineRedactor } from './command-line-redactor.ts';
import { startHub } from './index.ts';

/** Words that make command lines with and without secrets, as the redaction's own tests use them. */
const WORDS = [
	'curl',
	'-sk',
	'-H',
	'Authorization:',
	'Bearer',
	's3cr3t',
	'X-Api-Key:k1',
	'X-Signature:sig',
	'-u',
	'alice:pw1',
	'postgres://bob:hunter2@db/x',
	'--api-token',
	't1',
	'--password=pw',
	'PGPASSWORD=zzz',
	'https://h/x?api_key=k2&page=2',
	'node',
	'server.js',
	'--port',
	'8443',
	'',
];
const commandLine = fc.array(fc.constantFrom(...WORDS), { maxLength: 12 }).map((w) => w.join(' '));

test('what the cache returns is always what redactCommandLine returns, first time, again, and after eviction', () => {
	const rules = redactionRules(['X-Signature']);
	// Small bounds, so the run goes past them again and again.
	const redactor = new CommandLineRedactor(rules, { maxEntries: 8, maxChars: 400 });
	fc.assert(
		fc.property(fc.array(commandLine, { minLength: 1, maxLength: 40 }), (lines) => {
			for (const line of [...lines, ...lines]) {
				assert.equal(redactor.redact(line), redactCommandLine(line, rules), line);
			}
		}),
		{ numRuns: 500 },
	);
	assert.ok(redactor.evictions > 0, 'the bound was reached');
	assert.ok(redactor.size <= 8);
});

test('past its bounds the cache lets the least recently used go, counted, and stays within them', () => {
	const redactor = new CommandLineRedactor(DEFAULT_REDACTION, { maxEntries: 100, maxChars: 10_000 });
	for (let i = 0; i < 1000; i++) redactor.redact(`app --id ${i} --password=pw${i}`);
	assert.equal(redactor.size, 100);
	assert.equal(redactor.evictions, 900);
	assert.equal(redactor.misses, 1000);
	// The newest are kept: seen again, they are not redacted again.
	assert.equal(redactor.redact('app --id 999 --password=pw999'), 'app --id 999 --password=REDACTED');
	assert.equal(redactor.misses, 1000);
	// The oldest went: redacted again, right.
	assert.equal(redactor.redact('app --id 0 --password=pw0'), 'app --id 0 --password=REDACTED');
	assert.equal(redactor.misses, 1001);

	// The size bound holds for long command lines: 200 of 2,000 characters are 400,000.
	const bySize = new CommandLineRedactor(DEFAULT_REDACTION, { maxEntries: 1000, maxChars: 10_000 });
	for (let i = 0; i < 200; i++) bySize.redact(`${i} ${'x'.repeat(2000)}`);
	assert.ok(bySize.size <= 5, `${bySize.size} kept`);
	assert.equal(bySize.evictions, 200 - bySize.size);
	// One longer than the whole bound is redacted and not kept.
	const huge = `--token ${'y'.repeat(20_000)}`;
	assert.equal(bySize.redact(huge), redactCommandLine(huge));
	assert.ok(bySize.size <= 5);
});

test("the hub's command-line cache past its bound counts what it let go on /metrics", async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-redactor-'));
	const hub = await startHub({
		listen: { host: '127.0.0.1', port: 0 },
		dataDir: dir,
		token: 't',
		web: false,
		log: () => {},
		redactedCommandLines: 2,
	});
	const ws = new WebSocket(hub.url.replace(/^http/, 'ws') + '/ingest', { headers: { authorization: 'Bearer t' } });
	try {
		let replies = 0;
		ws.on('message', () => replies++);
		await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
		ws.send(JSON.stringify({ type: 'hello', host: 'box', version: 't', frequencyHz: 99 }));
		const processes = Array.from({ length: 5 }, (_, i) => ({
			pid: i + 1,
			comm: 'x',
			cmdline: `app --n ${i}`,
			cpuPercent: 0,
			samplesPerSec: 0,
		}));
		ws.send(JSON.stringify({ type: 'live', stats: { host: 'box', ts: Date.now(), frequencyHz: 99, processes, drops: {} } }));
		for (const deadline = Date.now() + 30_000; replies < 2;) {
			assert.ok(Date.now() < deadline, 'no acks');
			await new Promise((r) => setTimeout(r, 20));
		}
		const text = await (await fetch(`${hub.url}/metrics`)).text();
		assert.match(text, /^firesight_hub_command_lines_evicted_total 3$/m);
	} finally {
		ws.terminate();
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	}
});
