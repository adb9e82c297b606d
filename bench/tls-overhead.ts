/**
 * What TLS capture costs a busy HTTPS service: a Node https server under load from a local Node
 * client (both their own processes, both with Node's OpenSSL, so both are traced), measured with
 * capture off, with Firesight's TlsCapture on, and with a bpftrace script putting entry and return
 * uprobes on the same four functions (counting calls and bytes, no payload copy) as the peer.
 *
 * Two loads per mode: closed loop (as fast as it goes: throughput) and open loop at a fixed rate
 * (latency and drops at 1,000 requests/s). CPU is read from /proc for the server and reported by
 * the client, so the cost per request and per SSL call is measured, not inferred from throughput.
 *
 *   npx tsx bench/tls-overhead.ts [--seconds 5] [--rate 1000] [--rounds 3] [--no-bpftrace]
 *                                 [--baseline DIR]
 * --baseline DIR measures the TlsCapture of another checkout (an older commit with its addon
 * built, e.g. from `git archive` plus `npm run build -w @firesight/native`) as one more mode of
 * the same rounds: before and after side by side under the same background load.
 * Needs root. Writes the "TLS capture" section of bench/RESULTS.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { TlsCapture } from '@firesight/collector/tls';
import { freePort, makeCert, startNodeServer } from '@firesight/testing/tls-peers';

const { values: args } = parseArgs({
	options: {
		seconds: { type: 'string', default: '5' },
		rate: { type: 'string', default: '1000' },
		concurrency: { type: 'string', default: '8' },
		'no-bpftrace': { type: 'boolean', default: false },
		'no-write': { type: 'boolean', default: false },
		rounds: { type: 'string', default: '3' },
		baseline: { type: 'string' },
	},
});
const SECONDS = Number(args.seconds);
const RATE = Number(args.rate);
const CONCURRENCY = Number(args.concurrency);
const ROUNDS = Number(args.rounds);
const TICK = 100; // USER_HZ: /proc/PID/stat times are in 1/100 s

const CLIENT = `
const https = require('https');
const [port, mode, ms, rate, conc] = process.argv.slice(1, 6).map(Number);
const prefix = process.argv[6];
const agent = new https.Agent({ keepAlive: true, maxSockets: conc, rejectUnauthorized: false });
const lat = []; let errors = 0, inflight = 0, sent = 0;
const one = () => new Promise((resolve) => {
	const t0 = process.hrtime.bigint(); inflight++; sent++;
	const req = https.get({ host: '127.0.0.1', port, path: prefix + (sent % 50), agent }, (res) => {
		res.resume();
		res.on('end', () => { inflight--; lat.push(Number(process.hrtime.bigint() - t0) / 1e6); if (res.statusCode !== 200) errors++; resolve(); });
	});
	req.on('error', () => { inflight--; errors++; resolve(); });
});
(async () => {
	const start = Date.now(), deadline = start + ms, cpu0 = process.cpuUsage();
	if (mode === 0) {
		await Promise.all(Array.from({ length: conc }, async () => { while (Date.now() < deadline) await one(); }));
	} else {
		// Open loop: requests leave on schedule whatever the previous ones do (bounded in flight).
		await new Promise((done) => {
			const timer = setInterval(() => {
				const due = Math.floor((Date.now() - start) * rate / 1000);
				while (sent < due && inflight < 256) one();
				if (Date.now() >= deadline) { clearInterval(timer); const wait = setInterval(() => { if (inflight === 0) { clearInterval(wait); done(); } }, 5); }
			}, 1);
		});
	}
	const cpu = process.cpuUsage(cpu0);
	lat.sort((a, b) => a - b);
	const q = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)] : 0;
	console.log(JSON.stringify({ count: lat.length, errors, seconds: (Date.now() - start) / 1000, p50: q(0.5), p99: q(0.99), cpuMs: (cpu.user + cpu.system) / 1000 }));
	agent.destroy();
})();
`;

interface LoadResult {
	count: number;
	errors: number;
	seconds: number;
	p50: number;
	p99: number;
	cpuMs: number;
	serverCpuMs: number;
}

function procCpuMs(pid: number): number {
	const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
	const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	return ((Number(f[11]) + Number(f[12])) * 1000) / TICK;
}

let phase = 0;

/** Runs one load; its requests carry a path prefix of their own (returned) so captures can be counted exactly. */
async function load(port: number, serverPid: number, openLoop: boolean): Promise<LoadResult & { prefix: string }> {
	const prefix = `/bench/${++phase}/`;
	const cpu0 = procCpuMs(serverPid);
	const child = spawn(
		process.execPath,
		['-e', CLIENT, String(port), openLoop ? '1' : '0', String(SECONDS * 1000), String(RATE), String(CONCURRENCY), prefix],
		{
			stdio: ['ignore', 'pipe', 'inherit'],
		},
	);
	let out = '';
	child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
	await new Promise((r) => child.on('exit', r));
	const res = JSON.parse(out) as Omit<LoadResult, 'serverCpuMs'>;
	return { ...res, serverCpuMs: procCpuMs(serverPid) - cpu0, prefix };
}

const BPFTRACE_SCRIPT = (bin: string) =>
	['SSL_read', 'SSL_write', 'SSL_read_ex', 'SSL_write_ex']
		.map(
			(f) => `uprobe:${bin}:${f} { @start[tid] = nsecs; @calls = count(); }
uretprobe:${bin}:${f} /@start[tid]/ { if ((int32)retval > 0) { @bytes = sum((int32)retval); @data = count(); } delete(@start[tid]); }`,
		)
		.join('\n');

async function startBpftrace(bin: string): Promise<{ proc: ChildProcess; stop: () => Promise<string> }> {
	const proc = spawn('bpftrace', ['-e', BPFTRACE_SCRIPT(bin)], { stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '';
	proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
	proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
	const deadline = Date.now() + 20_000;
	while (!out.includes('Attaching')) {
		if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`bpftrace did not start: ${out}`);
		await new Promise((r) => setTimeout(r, 50));
	}
	await new Promise((r) => setTimeout(r, 500)); // "Attaching" comes before the probes are in
	return {
		proc,
		stop: async () => {
			proc.kill('SIGINT');
			await new Promise((r) => proc.on('exit', r));
			return out;
		},
	};
}

interface ModeResult {
	mode: string;
	max: LoadResult;
	fixed: LoadResult;
	drops?: number;
	collectorCpuMs?: number;
	requestsCaptured?: number;
	sslCalls?: number;
}

type CaptureClass = typeof TlsCapture;

/** One capture mode: the capture on while both loads run. */
async function captureMode(mode: string, Capture: CaptureClass, port: number, serverPid: number): Promise<ModeResult> {
	const capture = new Capture();
	const byPrefix = new Map<string, number>();
	capture.on('request', (r) => {
		const p = /^\/bench\/\d+\//.exec(r.path)?.[0] ?? '';
		byPrefix.set(p, (byPrefix.get(p) ?? 0) + 1);
	});
	capture.on('error', () => {}); // attach failures of unrelated processes: not this benchmark's business
	const cpu0 = process.cpuUsage();
	capture.start();
	const max = await load(port, serverPid, false);
	const before = capture.counters().kernel;
	const fixed = await load(port, serverPid, true);
	await new Promise((r) => setTimeout(r, 300));
	const after = capture.counters().kernel;
	const cpu = process.cpuUsage(cpu0);
	capture.stop();
	return {
		mode,
		max,
		fixed,
		drops: after.dataLost + after.controlLost + after.streamDropped - (before.dataLost + before.controlLost + before.streamDropped),
		collectorCpuMs: (cpu.user + cpu.system) / 1000,
		requestsCaptured: byPrefix.get(fixed.prefix) ?? 0,
	};
}

async function runRound(port: number, serverPid: number, bin: string, baseline: CaptureClass | undefined): Promise<ModeResult[]> {
	const results: ModeResult[] = [];
	results.push({ mode: 'off', max: await load(port, serverPid, false), fixed: await load(port, serverPid, true) });
	if (baseline) results.push(await captureMode('firesight (baseline)', baseline, port, serverPid));
	results.push(await captureMode('firesight', TlsCapture, port, serverPid));

	if (!args['no-bpftrace'] && spawnSync('bpftrace', ['--version']).status === 0) {
		const bt = await startBpftrace(bin);
		const btMax = await load(port, serverPid, false);
		const btFixed = await load(port, serverPid, true);
		const out = await bt.stop();
		const calls = Number(/@calls: (\d+)/.exec(out)?.[1] ?? NaN);
		results.push({ mode: 'bpftrace', max: btMax, fixed: btFixed, sslCalls: calls });
	}
	return results;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function main(): Promise<void> {
	if (process.getuid?.() !== 0) throw new Error('the benchmark loads BPF programs: run it as root');
	const cert = makeCert();
	const port = freePort();
	const server = await startNodeServer(cert, port);
	const rounds: ModeResult[][] = [];
	const baseline = args.baseline
		? ((await import(pathToFileURL(join(resolve(args.baseline), 'apps/collector/src/tls/index.ts')).href)) as { TlsCapture: CaptureClass })
				.TlsCapture
		: undefined;
	try {
		// Warm up JIT and TLS sessions so the first mode is not penalized.
		await load(port, server.pid!, false);
		// Modes alternate within each round, so background load hits them alike.
		for (let i = 0; i < ROUNDS; i++) rounds.push(await runRound(port, server.pid!, process.execPath, baseline));
	} finally {
		server.kill();
		cert.remove();
	}
	report(rounds);
}

function report(rounds: ModeResult[][]): void {
	const modes = rounds[0]!.map((m) => m.mode);
	const perReq = (l: LoadResult) => ((l.cpuMs + l.serverCpuMs) / l.count) * 1000; // µs of peer CPU per request
	const rps = (m: ModeResult) => m.max.count / m.max.seconds;
	/** The median over rounds of f(this mode's result, the same round's capture-off result). */
	const med = (mode: string, f: (m: ModeResult, off: ModeResult) => number) =>
		median(
			rounds.map((r) =>
				f(
					r.find((m) => m.mode === mode)!,
					r[0]!,
				),
			),
		);
	const collectorUs = (m: ModeResult) => ((m.collectorCpuMs ?? 0) * 1000) / (m.max.count + m.fixed.count);
	const collectorPct = (m: ModeResult) => ((m.collectorCpuMs ?? 0) / ((m.max.seconds + m.fixed.seconds) * 1000)) * 100;
	const bt = rounds.flatMap((r) => r.filter((m) => m.mode === 'bpftrace' && m.sslCalls));
	// SSL calls per request (all of them, including those that return "want more"), from bpftrace.
	const callsPerRequest = bt.length ? median(bt.map((m) => m.sslCalls! / (m.max.count + m.fixed.count))) : undefined;
	const lines: string[] = [];
	lines.push('## TLS capture', '');
	lines.push(`Node https server and a Node keep-alive client (${CONCURRENCY} sockets) on loopback, both with Node's`);
	lines.push(`own OpenSSL, so both are traced: every request is 4 data-carrying SSL calls (client write and read,`);
	lines.push(`server read and write). ${SECONDS} s per load; "fixed" is an open loop at ${RATE} requests/s. Peer CPU is`);
	lines.push("server (from /proc) plus client (its own process.cpuUsage), per request; collector CPU is the capture's");
	lines.push('process (decoding, HTTP parsing, aggregates) over both loads, per request. 2 shared cores, a VM, other work');
	lines.push(`running: the modes alternate within each round, ratios are taken against the same round's "off", and`);
	lines.push(`every number is the median over ${rounds.length} rounds (1-minute load average at the end: ${loadavg()[0]!.toFixed(1)}).`);
	lines.push('CPU per request moves far less with background load than requests/s does: compare those first.', '');
	lines.push(
		'| mode | max req/s | throughput ratio | fixed-rate p50 ms | fixed-rate p99 ms | p99 ratio | peer CPU µs/request | peer CPU added | collector CPU µs/request | collector CPU | drops |',
	);
	lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
	for (const mode of modes) {
		const capture = mode.startsWith('firesight');
		const drops = rounds
			.flat()
			.filter((m) => m.mode === mode)
			.reduce((n, m) => n + (m.drops ?? 0), 0);
		lines.push(
			`| ${mode} | ${med(mode, rps).toFixed(0)} | ${med(mode, (m, off) => rps(m) / rps(off)).toFixed(3)} | ` +
				`${med(mode, (m) => m.fixed.p50).toFixed(2)} | ${med(mode, (m) => m.fixed.p99).toFixed(2)} | ${med(mode, (m, off) => m.fixed.p99 / off.fixed.p99).toFixed(2)} | ` +
				`${med(mode, (m) => perReq(m.max)).toFixed(0)} | ${mode === 'off' ? '-' : `+${med(mode, (m, off) => perReq(m.max) - perReq(off.max)).toFixed(0)}`} | ` +
				`${capture ? med(mode, collectorUs).toFixed(0) : '-'} | ${capture ? `${med(mode, collectorPct).toFixed(1)}% of a core` : '-'} | ${capture ? drops : '-'} |`,
		);
	}
	lines.push('');
	for (const mode of modes.filter((m) => m !== 'off')) {
		const extra = med(mode, (m, off) => perReq(m.max) - perReq(off.max));
		const what = mode === 'bpftrace' ? 'bpftrace (uprobe + uretprobe on the same four functions, counting only)' : mode;
		lines.push(
			`- ${what}: +${extra.toFixed(0)} µs of peer CPU per request` +
				(callsPerRequest ? `, ${(extra / callsPerRequest).toFixed(1)} µs per SSL call` : '') +
				(mode.startsWith('firesight') ? `, plus ${med(mode, collectorUs).toFixed(0)} µs of collector CPU per request` : '') +
				'.',
		);
	}
	if (callsPerRequest)
		lines.push(`- ${callsPerRequest.toFixed(1)} SSL calls per request (counted by bpftrace; entry and return probe each).`);
	const base = modes.includes('firesight (baseline)');
	if (base) {
		const ratio = (f: (m: ModeResult, off: ModeResult) => number) =>
			median(
				rounds.map(
					(r) =>
						f(
							r.find((m) => m.mode === 'firesight')!,
							r[0]!,
						) /
						f(
							r.find((m) => m.mode === 'firesight (baseline)')!,
							r[0]!,
						),
				),
			);
		lines.push(
			`- firesight against firesight (baseline), per round then median: peer CPU added ×${ratio((m, off) => perReq(m.max) - perReq(off.max)).toFixed(2)}, ` +
				`collector CPU per request ×${ratio(collectorUs).toFixed(2)}, throughput ×${ratio(rps).toFixed(2)}, fixed-rate p99 ×${ratio((m) => m.fixed.p99).toFixed(2)}.`,
		);
	}
	lines.push(
		`- Throughput ratios per round (${modes.join(' / ')}): ${rounds.map((r) => r.map((m) => (rps(m) / rps(r[0]!)).toFixed(2)).join(' / ')).join('; ')}.`,
	);
	for (const mode of modes.filter((m) => m.startsWith('firesight'))) {
		const runs = rounds.flat().filter((m) => m.mode === mode);
		const ok = runs.every((m) => m.requestsCaptured === 2 * m.fixed.count);
		lines.push(
			`- ${mode} at ${RATE} requests/s, over all rounds: ${runs.reduce((n, m) => n + m.fixed.count, 0)} requests made, ` +
				`${runs.reduce((n, m) => n + (m.requestsCaptured ?? 0), 0)} captured (client and server side each), ` +
				`${runs.reduce((n, m) => n + (m.drops ?? 0), 0)} records dropped; every request captured on both sides: ${ok ? 'yes' : 'no'}.`,
		);
	}
	lines.push(
		'',
		`Run: \`npx tsx bench/tls-overhead.ts${base ? ' --baseline DIR' : ''}\` (${new Date().toISOString().slice(0, 10)}).`,
		'',
		'',
	); // a blank line before the next section
	const section = lines.join('\n');
	console.log(section);
	if (args['no-write']) return;
	const path = new URL('./RESULTS.md', import.meta.url);
	let text = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n\n';
	const start = text.indexOf('## TLS capture');
	if (start >= 0) {
		const next = text.indexOf('\n## ', start + 1);
		text = text.slice(0, start) + section + (next >= 0 ? text.slice(next + 1) : '');
	} else {
		text = text.replace(/\n*$/, '\n\n') + section;
	}
	writeFileSync(path, text);
}

await main();
