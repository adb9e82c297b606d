import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startHub } from '@firesight/web/server';

const BIN = fileURLToPath(new URL('../../bin/firesight.js', import.meta.url));
const execFileP = promisify(execFile);

interface Outcome {
	code: number;
	stdout: string;
	stderr: string;
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
	return execFileP(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 120_000 }).then(
		(r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
		(e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
	);
}

/** Runs `jobs` a few at a time: each is a node process starting up. */
async function inTurns<T>(jobs: (() => Promise<T>)[], width = 4): Promise<T[]> {
	const out: T[] = new Array(jobs.length);
	let next = 0;
	await Promise.all(
		Array.from({ length: width }, async () => {
			while (next < jobs.length) {
				const i = next++;
				out[i] = await jobs[i]!();
			}
		}),
	);
	return out;
}

test('bad arguments and environment values: exit code 2, one line on stderr, no stack, before anything starts', async (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-cli-input-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const hub = ['--hub', 'http://127.0.0.1:1', '--token', 'some-token'];
	const tokenFile = join(dir, 'token');
	writeFileSync(tokenFile, 'file-token\n');
	const cases: { args: string[]; env?: Record<string, string>; says: RegExp }[] = [
		{ args: ['record', '--duration', '-5'], says: /--duration must be a duration .*got '-5'/ },
		{ args: ['record', '--duration', '0'], says: /--duration must be/ },
		{ args: ['record', '--duration', '99999999999d'], says: /--duration must be/ },
		{ args: ['record', '--frequency', '0'], says: /--frequency must be a whole number from 1 to 10000/ },
		{ args: ['record', '--frequency', '1e9'], says: /--frequency must be/ },
		{ args: ['record', '--pid', '-1'], says: /--pid must be/ },
		{ args: ['record', '--unwind', 'frames'], says: /--unwind must be fp, dwarf or auto, got 'frames'/ },
		{
			args: ['collector', '--hub', 'http://127.0.0.1:1', '--token', 'some-token', '--unwind', ''],
			says: /--unwind must be fp, dwarf or auto/,
		},
		{ args: ['record', '--pid', '4194303'], says: /--pid 4194303: no such process/ },
		{ args: ['record', ...Array.from({ length: 1025 }, () => ['--pid', '1']).flat()], says: /--pid: at most 1024 processes, got 1025/ },
		{ args: ['record', '--output', '/nonexistent/x.pb.gz'], says: /--output '\/nonexistent\/x\.pb\.gz': its directory does not exist/ },
		{ args: ['record', '--output', dir], says: /is a directory/ },
		{ args: ['record', '--output', '/proc/x.pb.gz'], says: /--output '\/proc\/x\.pb\.gz': cannot be written \(ENOENT\)/ },
		{ args: ['record', '--bogus\nline'], says: /unknown option '--bogus\\nline'/ },
		{ args: ['record', '--duration', 'soon'], says: /--duration must be a duration .*got 'soon'/ },
		{ args: ['record', '--format', 'svg'], says: /--format must be pprof or folded, got 'svg'/ },
		{ args: ['record', '--pid', 'abc'], says: /--pid must be a whole number .*got 'abc'/ },
		{ args: ['record', 'extra'], says: /unexpected argument 'extra'/ },
		{ args: ['nosuchcommand'], says: /unknown command 'nosuchcommand'/ },
		{ args: ['collector', ...hub, '--window', '0'], says: /--window must be a duration from 1s to 1h/ },
		{ args: ['collector', ...hub, '--frequency', '-3'], says: /--frequency must be/ },
		{ args: ['collector', '--hub', 'ftp://x'], says: /--hub must be a URL/ },
		{ args: ['collector', '--hub', 'http://127.0.0.1:1'], says: /--token or --token-file is required \(or set \$FIRESIGHT_TOKEN\)/ },
		{
			args: ['collector', '--hub', 'http://127.0.0.1:1', '--token-file', join(dir, 'none')],
			says: /--token-file cannot be read \(ENOENT\)/,
		},
		{ args: ['collector', ...hub, '--token-file', tokenFile], says: /give --token or --token-file, not both/ },
		{ args: ['collector', ...hub, '--spool', '/proc/nope'], says: /--spool '\/proc\/nope' cannot be created \(ENOENT\)/ },
		{ args: ['collector', ...hub, '--spool', tokenFile], says: /--spool '.*token' is not a directory/ },
		{
			args: ['hub', '--store', 'mysql://db'],
			says: /--store must be sqlite:PATH, sqlite:DIR\/ or clickhouse:\/\/HOST:PORT\/DB, got 'mysql:\/\/db'/,
		},
		{ args: ['hub', '--token-file', dir], says: /--token-file cannot be read \(EISDIR\)/ },
		{ args: ['collector', '--hub', 'http://127.0.0.1:1'], env: { FIRESIGHT_TOKEN: 'two\nlines' }, says: /\$FIRESIGHT_TOKEN must be/ },
		{ args: ['query', 'profile', '--since', '99999999999d'], says: /--since must be a duration from 1s to 366d/ },
		{ args: ['query', 'requests', '--pid', '-1'], says: /--pid must be/ },
		{ args: ['query', 'profile', '--output', '/nonexistent/x.pb.gz'], says: /its directory does not exist/ },
		{ args: ['hub', '--listen', '256.1.1.1:7620'], says: /--listen has no valid address: '256\.1\.1\.1'/ },
		{ args: ['hub', '--listen', '127.0.0.1:70000'], says: /--listen must be ADDR:PORT/ },
		{ args: ['hub', '--listen', 'no-such-host.invalid:7620'], says: /--listen host 'no-such-host\.invalid' does not resolve/ },
		{ args: ['hub', '--data', '/proc/nope'], says: /data directory '\/proc\/nope' cannot be created/ },
		{ args: ['hub'], env: { FIRESIGHT_DATA: '/proc/nope' }, says: /data directory '\/proc\/nope' cannot be created/ },
		{ args: ['hub', '--token', 'short'], says: /--token must be 8 to 512 visible ASCII characters/ },
		{
			args: ['hub', '--listen', '192.0.2.1:7300', '--token', 'a-token-of-ours', '--data', join(dir, 'hub')],
			says: /--listen '192\.0\.2\.1' is not an address of this host/,
		},
		{ args: ['up', '--window', '0'], says: /--window must be/ },
		{ args: ['up', '--listen', '0.0.0.0:7300', '--data', join(dir, 'up')], says: /refusing to listen on 0\.0\.0\.0 without a token/ },
		{ args: ['hub', '--listen', '0.0.0.0:7300', '--data', join(dir, 'hub')], says: /refusing to listen on 0\.0\.0\.0 without a token/ },
		{ args: ['hub', '--tls-cert', 'cert.pem'], says: /--tls-cert and --tls-key go together/ },
		{
			args: ['hub', '--tls-cert', join(dir, 'no-cert.pem'), '--tls-key', join(dir, 'no-key.pem'), '--data', join(dir, 'hub')],
			says: /cannot read the TLS certificate .*no-cert\.pem: ENOENT/,
		},
	];
	const outcomes = await inTurns(cases.map((c) => () => cli(c.args, c.env)));
	cases.forEach((c, i) => {
		const r = outcomes[i]!;
		const what = `${JSON.stringify(c.args)}: ${r.stderr}`;
		assert.equal(r.code, 2, what);
		assert.equal(r.stdout, '', what);
		assert.equal(r.stderr.trimEnd().split('\n').length, 1, what);
		assert.doesNotMatch(r.stderr, /^\s+at /m, what);
		assert.match(r.stderr, c.says, what);
	});
	assert.equal(existsSync('/nonexistent'), false);
});

test('--help for every command and subcommand, --version', async () => {
	const runs = [
		['--help'],
		['--version'],
		...['up', 'record', 'collector', 'hub', 'query', 'query profile', 'query requests', 'query retransmits'].map((c) => [
			...c.split(' '),
			'--help',
		]),
	];
	const outcomes = await inTurns(runs.map((args) => () => cli(args)));
	runs.forEach((args, i) => {
		const r = outcomes[i]!;
		assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
		assert.equal(r.stderr, '');
		if (args[0] === '--version') {
			const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
			assert.equal(r.stdout, `${pkg.version}\n`);
		} else {
			assert.match(r.stdout, new RegExp(`^Usage: firesight ${args.length > 1 ? args.slice(0, -1).join(' ') : '<command>'}`));
		}
	});
});

test('a reader that closes the pipe early ends the query quietly, with status 0', async (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-cli-epipe-'));
	const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir: dir, token: 'epipe-token', web: false, log: () => {} });
	t.after(async () => {
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	});
	// pprof is written even when the range holds no sample: a header and the sample types.
	const query = [BIN, 'query', 'profile', '--format', 'pprof', '--since', '1m', '--hub', hub.url];
	const full = await cli(query.slice(1));
	assert.equal(full.code, 0, full.stderr);
	assert.ok(full.stdout.length > 0);

	// `firesight query profile | head -c1` where head has already gone: every write meets EPIPE.
	const child = spawn(process.execPath, query, { stdio: ['ignore', 'pipe', 'pipe'] });
	child.stdout.destroy();
	let stderr = '';
	child.stderr.on('data', (d) => (stderr += d));
	const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
	assert.equal(stderr.replace(/^firesight query: no samples in the last 1m\n/, ''), '');
	assert.equal(code, 0);
});

test('a hub with auth on: a query without its token is told so in one line; with it, it answers', async (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-cli-token-'));
	const hub = await startHub({
		listen: { host: '127.0.0.1', port: 0 },
		dataDir: dir,
		token: 'the-hub-token',
		auth: true,
		web: false,
		log: () => {},
	});
	t.after(async () => {
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	});
	const runs: { args: string[]; env?: Record<string, string> }[] = [
		{ args: ['query', 'requests'] },
		{ args: ['query', 'retransmits', '--token', 'not-the-token'] },
		{ args: ['query', 'profile', '--format', 'pprof', '--output', join(dir, 'x.pb.gz')] },
		{ args: ['query', 'requests', '--token', 'the-hub-token'] },
		{ args: ['query', 'profile', '--format', 'pprof', '--output', join(dir, 'y.pb.gz')], env: { FIRESIGHT_TOKEN: 'the-hub-token' } },
	];
	const outcomes = await inTurns(runs.map((r) => () => cli([...r.args, '--hub', hub.url], r.env)));
	outcomes.forEach((r, i) => {
		const what = `${runs[i]!.args.join(' ')}: ${r.stderr}`;
		if (i < 3) {
			assert.equal(r.code, 1, what);
			assert.equal(r.stderr, `firesight query: the hub at ${hub.url} wants its token: give --token or set $FIRESIGHT_TOKEN\n`, what);
		} else {
			assert.equal(r.code, 0, what);
			assert.match(r.stderr, /^firesight query: no (HTTPS requests|samples) in the last 5m\n$/, what);
		}
	});
	assert.equal(existsSync(join(dir, 'x.pb.gz')), false, 'a refused query leaves no file behind');
	assert.equal(existsSync(join(dir, 'y.pb.gz')), true);
});
