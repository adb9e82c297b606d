import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prerequisitesRequired } from './bpf-test-gate.ts';

/** The repository's scripts/clickhouse.sh, which installs, starts and stops the server. */
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../scripts/clickhouse.sh');

export interface ClickhouseServer {
	/** `clickhouse://127.0.0.1:PORT/firesight`; a test picks its own database on the same server. */
	url: string;
	/** `http://127.0.0.1:PORT`, for statements a test sends itself. */
	httpUrl: string;
	/** Stops the server and deletes its data. */
	stop(): Promise<void>;
}

function script(args: string[]): Promise<string> {
	return new Promise((done, fail) => {
		// Installing the Debian package on a fresh machine takes a while.
		execFile('bash', [SCRIPT, ...args], { timeout: 15 * 60_000 }, (err, stdout, stderr) => {
			if (err) {
				// The whole of what the script said: a server that exited prints its log's last lines.
				const why = stderr.trim().split('\n').filter(Boolean).join(' | ') || err.message.split('\n')[0];
				fail(new Error(why));
			} else done(stdout.trim());
		});
	});
}

/** Starts tried before giving up: in one fresh run a start exited at once, with nothing in its log. */
const START_ATTEMPTS = 3;

/**
 * A throw-away ClickHouse server on 127.0.0.1 with its data in a fresh temp dir, or why there
 * is none (not installable, does not start). Stop it in an `after` hook.
 */
export async function startClickhouse(): Promise<{ server: ClickhouseServer } | { reason: string }> {
	const reasons: string[] = [];
	for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
		const dir = mkdtempSync(join(tmpdir(), 'firesight-clickhouse-'));
		try {
			const url = (await script(['start', '--dir', dir])).split('\n').at(-1)!;
			const httpUrl = url.replace(/^clickhouse:\/\/([^/]+)\/.*$/, 'http://$1');
			return { server: { url, httpUrl, stop: async () => void (await script(['stop', '--dir', dir])) } };
		} catch (err) {
			rmSync(dir, { recursive: true, force: true });
			reasons.push((err as Error).message);
		}
	}
	return { reason: `needs a ClickHouse server (scripts/clickhouse.sh start, ${START_ATTEMPTS} tries: ${reasons.join('; ')})` };
}

/** Whether a missing server fails rather than skips: as for BPF, and whenever CI is set. */
export function clickhouseRequired(): boolean {
	return prerequisitesRequired() || Boolean(process.env.CI);
}

/** Runs one statement on the server (a test's own databases: create, drop, inspect). */
export async function clickhouseStatement(server: ClickhouseServer, sql: string): Promise<string> {
	// Connection: close, or the idle keep-alive connection makes the server's stop wait about
	// 10 s for it (a 10 s ClickHouse test spent 9 of them stopping).
	const res = await fetch(server.httpUrl, { method: 'POST', body: sql, headers: { connection: 'close' } });
	const text = await res.text();
	if (!res.ok) throw new Error(`ClickHouse: ${text.split('\n')[0]}`);
	return text;
}
