import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bpfSkip } from '@firesight/testing/bpf-test-gate';
import { startHub } from '@firesight/web/server';

const BIN = fileURLToPath(new URL('../bin/firesight.js', import.meta.url));
/** RSS is judged from here on, once the caches have met the churn. */
const WARMUP_MS = 20_000;
/** RSS is judged over this much churn: the minute of churn is WARMUP_MS and then this. */
const JUDGED_MS = 40_000;
/** The churn a judged span must hold at least: without many processes it would prove nothing. */
const CHURN_PROCESSES = 2_000;
/**
 * The collector profiles the whole host: a large program started elsewhere meanwhile (another
 * test, a build) has its unwind table built and kept, a step in RSS the churn did not make. So
 * the churn goes on, up to this, until a judged span is flat; a cache that grows with the churn
 * grows in every span and fails at the deadline.
 */
const CHURN_DEADLINE_MS = 240_000;
/**
 * Growth allowed after warm-up: V8's heap breathes by tens of MiB between collections, while a
 * cache keyed by pid that never evicts grows by the thousands of processes of each second.
 */
const RSS_SLACK_MIB = 64;

const rssMiB = (pid: number) => Number(/^VmRSS:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
const lastPid = () => Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
/** Pids wrap at pid_max; a churn of a minute can pass it, so pids made are added up second by second. */
const pidMax = () => Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(
	'process churn: a collector with profiling and TLS capture on stays up and its RSS stops growing after warm-up',
	{ skip: bpfSkip(), timeout: 420_000 },
	async (t) => {
		const dir = mkdtempSync(join(tmpdir(), 'firesight-churn-'));
		const token = 'churn-token';
		const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir: join(dir, 'data'), token, web: false, log: () => {} });
		const collector = spawn(
			process.execPath,
			[BIN, 'collector', '--hub', hub.url, '--token', token, '--host', 'churn', '--spool', join(dir, 'spool')],
			{ stdio: ['ignore', 'ignore', 'pipe'] },
		);
		let stderr = '';
		collector.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
		// Processes that start and exit at once, among them openssl, whose libssl TLS capture attaches to.
		const churn = ['/bin/true', 'openssl version'].map((cmd) =>
			spawn('sh', ['-c', `while :; do ${cmd} >/dev/null; done`], { stdio: 'ignore', detached: true }),
		);
		t.after(async () => {
			for (const c of churn) if (c.pid) process.kill(-c.pid, 'SIGKILL');
			if (collector.exitCode === null) collector.kill('SIGKILL');
			await hub.close();
			rmSync(dir, { recursive: true, force: true });
		});

		const deadline = Date.now() + 90_000;
		while (!hub.state.hosts().some((h) => h.host === 'churn' && h.connected && (h.features?.running.length ?? 0) >= 2)) {
			assert.ok(Date.now() < deadline, `the collector connected with its features within 90 s; stderr: ${stderr}`);
			assert.equal(collector.exitCode, null, `collector exited: ${stderr}`);
			await sleep(200);
		}
		const running = hub.state.hosts().find((h) => h.host === 'churn')!.features!.running;
		assert.ok(running.includes('profile') && running.includes('tls'), `profiling and TLS capture on: ${running.join(', ')}`);

		const wrap = pidMax();
		let previousPid = lastPid();
		let created = 0;
		const start = Date.now();
		const seenBeforeChurn = hub.state.hosts().find((h) => h.host === 'churn')!.lastSeenMs;
		const rss: { atMs: number; mib: number; created: number }[] = [];
		/** The latest JUDGED_MS of churn after warm-up, with its RSS floor at the start and its peak. */
		const judged = () => {
			const now = rss.at(-1)!.atMs;
			const span = rss.filter((p) => p.atMs >= Math.max(WARMUP_MS, now - JUDGED_MS));
			const base = Math.min(...span.slice(0, 5).map((p) => p.mib));
			const peak = Math.max(...span.map((p) => p.mib));
			return { span, base, peak, made: created - span[0]!.created, full: now - span[0]!.atMs >= JUDGED_MS - 1000 };
		};
		let last: ReturnType<typeof judged> | undefined;
		for (;;) {
			await sleep(1000);
			assert.equal(collector.exitCode, null, `the collector stays up under churn; stderr: ${stderr}`);
			const pid = lastPid();
			created += (pid - previousPid + wrap) % wrap;
			previousPid = pid;
			rss.push({ atMs: Date.now() - start, mib: rssMiB(collector.pid!), created });
			if (rss.at(-1)!.atMs < WARMUP_MS) continue;
			last = judged();
			if (last.full && last.made >= CHURN_PROCESSES && last.peak - last.base <= RSS_SLACK_MIB) break;
			if (Date.now() - start >= CHURN_DEADLINE_MS) break;
		}
		const { span, base, peak, made } = last!;
		const host = hub.state.hosts().find((h) => h.host === 'churn')!;
		// Behaviour, not timing: the hub heard from the collector after the churn began, still connected.
		assert.ok(host.connected && host.lastSeenMs > seenBeforeChurn, 'live stats kept coming during the churn');
		t.diagnostic(
			`${created} processes in ${((Date.now() - start) / 1000).toFixed(0)} s, ${made} in the span judged (${(span[0]!.atMs / 1000) | 0}-${(span.at(-1)!.atMs / 1000) | 0} s); ` +
				`RSS ${rss[0]!.mib.toFixed(0)} MiB at 1 s, ${base.toFixed(0)} MiB at the span's start, its peak ${peak.toFixed(0)} MiB`,
		);
		// The workload, not a claim about speed: without many processes the test would prove nothing.
		assert.ok(made >= CHURN_PROCESSES, `the churn made ${made} processes in the span judged, by ${CHURN_DEADLINE_MS / 1000} s`);
		assert.ok(
			peak - base <= RSS_SLACK_MIB,
			`RSS grew ${(peak - base).toFixed(0)} MiB in every ${JUDGED_MS / 1000} s of churn after warm-up, up to ${CHURN_DEADLINE_MS / 1000} s (${rss
				.filter((p) => p.atMs >= WARMUP_MS)
				.map((p) => p.mib.toFixed(0))
				.join(' ')})`,
		);

		collector.kill('SIGTERM');
		const code = await new Promise<number | null>((r) => collector.once('exit', (c) => r(c)));
		assert.equal(code, 0, `a clean stop after the churn; stderr: ${stderr}`);
	},
);
