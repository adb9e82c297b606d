/**
 * What request attribution costs: a Node https server that burns a little CPU per request, under
 * a closed-loop keep-alive client, profiled at 999 Hz, in three modes interleaved per round:
 *   - profiler only: no TLS capture, so the request context map is empty (every lookup misses);
 *   - capture: the TLS capture without request context (its kernel side left out);
 *   - capture + attribution: the TLS capture keeping each thread's request, samples stamped.
 * Kernel cost from kernel.bpf_stats_enabled: the profile program per sample, the tls programs per
 * request. Peer cost from /proc (the server's CPU per request); collector cost from this process's
 * CPU per request. The collector's labelling of held samples, and its per-request bookkeeping, are
 * measured apart on synthetic input (no kernel), since the profiler here is not behind a window.
 *
 *   npx tsx bench/request-attribution.ts [--seconds 5] [--rounds 3]
 * Needs root. Writes the "Request attribution cost" section of bench/RESULTS.md.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { RequestAttribution } from '@firesight/collector/request-attribution';
import { TlsCapture } from '@firesight/collector/tls';
import { Profiler } from '@firesight/native';
import { ProfileBuilder } from '@firesight/profile';
import { freePort } from '@firesight/testing/free-port';
import { makeCert, runNode } from '@firesight/testing/tls-peers';
import { cpuSeconds } from './proc-usage.ts';
import { writeResultsSection } from './results-file.ts';
import { benchArgs, positiveNumber, wholeNumber } from './bench-args.ts';

const { values: args } = benchArgs({
	name: 'request-attribution',
	summary: 'What linking requests to CPU samples costs, per sample and per request, on an https server profiled at 999 Hz (as root).',
	writes: 'the "Request attribution cost" section of bench/RESULTS.md',
	options: {
		seconds: { check: positiveNumber(), placeholder: 'N', help: 'seconds of load per mode', default: '5' },
		rounds: { check: wholeNumber(), placeholder: 'N', help: 'rounds; each runs every mode once', default: '3' },
		'no-write': { flag: true, help: 'print the section only' },
	},
});
const SECONDS = args.seconds;
const ROUNDS = args.rounds;
const FREQUENCY = 999;
const CONCURRENCY = 4;

/** About half a millisecond of CPU per request, in a function of its own. */
const SERVER = `
const https = require('https'), fs = require('fs');
const [key, cert, port] = process.argv.slice(1);
function work() { let x = 0; for (let i = 0; i < 300000; i++) x = (x + i * i) | 0; return x; }
let sink = 0;
https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert), keepAliveTimeout: 60000 }, (req, res) => {
	req.resume();
	req.on('end', () => { sink ^= work(); res.end('ok'); });
}).listen(+port, '127.0.0.1', () => console.log('ready'));
`;

const CLIENT = `
const https = require('https');
const [port, ms, conc] = process.argv.slice(1).map(Number);
const agent = new https.Agent({ keepAlive: true, maxSockets: conc, rejectUnauthorized: false });
let count = 0;
const one = (i) => new Promise((resolve) => {
	https.get({ host: '127.0.0.1', port, path: '/item/' + (i % 50), agent }, (res) => { res.resume(); res.on('end', () => { count++; resolve(); }); })
		.on('error', resolve);
});
(async () => {
	const deadline = Date.now() + ms;
	let i = 0;
	await Promise.all(Array.from({ length: conc }, async () => { while (Date.now() < deadline) await one(i++); }));
	agent.destroy();
	console.log(JSON.stringify({ count }));
})();
`;

interface BpfProg {
	id: number;
	name?: string;
	type: string;
	run_time_ns?: number;
	run_cnt?: number;
}
const progs = (): BpfProg[] => JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j']).toString()) as BpfProg[];
const runStats = (ids: Set<number>) =>
	progs()
		.filter((p) => ids.has(p.id))
		.reduce((a, p) => ({ ns: a.ns + (p.run_time_ns ?? 0), cnt: a.cnt + (p.run_cnt ?? 0) }), { ns: 0, cnt: 0 });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

type Mode = 'profiler only' | 'capture' | 'capture + attribution';
const MODES: Mode[] = ['profiler only', 'capture', 'capture + attribution'];
type Metric = 'requests' | 'sampleNs' | 'tlsNsPerRequest' | 'serverUs' | 'collectorUs' | 'stamped';
const series = Object.fromEntries(MODES.map((m) => [m, {} as Record<Metric, number[]>])) as Record<Mode, Record<Metric, number[]>>;
const push = (mode: Mode, metric: Metric, v: number) => (series[mode][metric] ??= []).push(v);

const cert = makeCert();
const port = await freePort();
const server = spawn(process.execPath, ['-e', SERVER, cert.key, cert.cert, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise<void>((resolve, reject) => {
	server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
	server.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
});
const statsPath = '/proc/sys/kernel/bpf_stats_enabled';
const statsBefore = readFileSync(statsPath, 'utf8').trim();
writeFileSync(statsPath, '1');
const before = new Set(progs().map((p) => p.id));
const profiler = new Profiler({ frequency: FREQUENCY, pids: [server.pid!], unwind: 'fp' });
const sampleProgs = new Set(
	progs()
		.filter((p) => !before.has(p.id) && p.type === 'perf_event')
		.map((p) => p.id),
);
try {
	await runNode(CLIENT, [String(port), '1000', String(CONCURRENCY)]); // warm up the JIT
	await profiler.drain();
	for (let round = 0; round < ROUNDS; round++) {
		for (const mode of MODES) {
			const beforeCapture = new Set(progs().map((p) => p.id));
			const attribution = mode === 'capture + attribution' ? new RequestAttribution() : undefined;
			const capture =
				mode === 'profiler only' ? undefined : new TlsCapture({ pids: [server.pid!], ...(attribution ? { attribution } : {}) });
			capture?.start();
			// The SSL probes, where requests open and are answered: the syscall hooks run for every
			// process on the host (a busy shared machine drowns the number) and do not change with it.
			const tlsProgs = new Set(
				progs()
					.filter((p) => !beforeCapture.has(p.id) && p.name?.startsWith('ssl_'))
					.map((p) => p.id),
			);
			await profiler.drain();
			const s0 = runStats(sampleProgs);
			const t0 = runStats(tlsProgs);
			const server0 = cpuSeconds(server.pid!) ?? 0;
			const self0 = process.cpuUsage();
			const { stdout } = await runNode(CLIENT, [String(port), String(SECONDS * 1000), String(CONCURRENCY)]);
			const requests = (JSON.parse(stdout) as { count: number }).count;
			await new Promise((r) => setTimeout(r, 300)); // the capture's last batch
			const self = process.cpuUsage(self0);
			const server1 = cpuSeconds(server.pid!) ?? 0;
			const s1 = runStats(sampleProgs);
			const t1 = runStats(tlsProgs);
			const drained = await profiler.drain();
			capture?.stop();
			const samples = drained.counts.reduce((n, c) => n + c.count, 0);
			const stamped = drained.counts.reduce((n, c) => n + (c.requestId !== undefined ? c.count : 0), 0);
			push(mode, 'requests', requests / SECONDS);
			if (s1.cnt > s0.cnt) push(mode, 'sampleNs', (s1.ns - s0.ns) / (s1.cnt - s0.cnt));
			if (capture) push(mode, 'tlsNsPerRequest', (t1.ns - t0.ns) / requests);
			push(mode, 'serverUs', ((server1 - server0) * 1e6) / requests);
			if (capture) push(mode, 'collectorUs', ((self.user + self.system) / requests) * 1);
			push(mode, 'stamped', samples ? stamped / samples : 0);
			console.error(
				`round ${round + 1}/${ROUNDS} ${mode}: ${(requests / SECONDS).toFixed(0)} req/s, ` +
					`${series[mode].sampleNs?.at(-1)?.toFixed(0) ?? '-'} ns per sample, ` +
					`${capture ? ((t1.ns - t0.ns) / requests).toFixed(0) : '-'} ns of tls BPF per request, ${((100 * stamped) / Math.max(1, samples)).toFixed(1)}% stamped`,
			);
		}
	}
} finally {
	profiler.close();
	writeFileSync(statsPath, statsBefore);
	server.kill('SIGKILL');
	cert.remove();
}

// The collector's part, apart: per request (its start and its answer), and per held sample.
const synthetic = (() => {
	const n = 200_000;
	const a = new RequestAttribution({ maxRequests: n + 1 });
	const base = process.hrtime.bigint();
	const c0 = process.cpuUsage();
	const builder = () => new ProfileBuilder({ startMs: 0, durationMs: 0, frequencyHz: FREQUENCY });
	// Per request: its start, its answer, and its share of the window close that decides it slow or not.
	for (let i = 1; i <= n; i++) {
		a.requestStarted(i, 7, base + BigInt(i), 'GET /api/users/:id');
		a.requestFinished(i, 7, 'GET /api/users/:id', 1);
	}
	a.flush(builder());
	const c1 = process.cpuUsage(c0);
	// Per sample: held, then labelled at the close, against a window's worth of answered requests.
	const w = new RequestAttribution();
	for (let i = 1; i <= 1000; i++) {
		w.requestStarted(i, 7, base + BigInt(i), 'GET /api/users/:id');
		w.requestFinished(i, 7, 'GET /api/users/:id', i === 1000 ? 900 : 1);
	}
	const b = builder();
	const frame = b.frames.intern({ name: 'work', module: 'node', kind: 'jit' });
	const samples = 100_000;
	const c2 = process.cpuUsage();
	for (let i = 0; i < samples; i++) w.hold(b, [frame], 1, { pid: 7, comm: 'node' }, 1 + (i % 1000), false);
	w.flush(b);
	const c3 = process.cpuUsage(c2);
	// Per ambiguous sample: its list of the slow requests whose lifetime may hold it, against a
	// window of 20,000 requests on one event-loop thread, about four open at a time; one in 500
	// takes 600 ms (slow), and the p99 of the others is slow too.
	const l = new RequestAttribution({ maxRequests: 100_000 });
	const loop = 20_000;
	for (let i = 1; i <= loop; i++) {
		const start = base + BigInt(i) * 1_000_000n;
		l.requestStarted(i, 7, start, 'GET /api/users/:id', 7);
		l.requestFinished(i, 7, 'GET /api/users/:id', i % 500 === 0 ? 600 : 3 + (i % 997) / 1000);
	}
	const lb = builder();
	const lframe = lb.frames.intern({ name: 'work', module: 'node', kind: 'jit' });
	const c4 = process.cpuUsage();
	for (let i = 0; i < samples; i++) l.hold(lb, [lframe], 1, { pid: 7, comm: 'node' }, 1 + (i % loop), true);
	l.flush(lb);
	const c5 = process.cpuUsage(c4);
	return {
		perRequestUs: (c1.user + c1.system) / n,
		perSampleUs: (c3.user + c3.system) / samples,
		perAmbiguousSampleUs: (c5.user + c5.system) / samples,
	};
})();

const fmt = (mode: Mode, metric: Metric, f: (x: number) => string) =>
	series[mode][metric]?.length ? f(median(series[mode][metric])) : '-';
const rows = MODES.map(
	(m) =>
		`| ${m} | ${fmt(m, 'requests', (x) => x.toFixed(0))} | ${fmt(m, 'sampleNs', (x) => `${x.toFixed(0)} ns`)} | ${fmt(m, 'stamped', (x) => `${(x * 100).toFixed(1)}%`)} | ` +
		`${fmt(m, 'tlsNsPerRequest', (x) => `${(x / 1000).toFixed(2)} µs`)} | ${fmt(m, 'serverUs', (x) => `${x.toFixed(0)} µs`)} | ${fmt(m, 'collectorUs', (x) => `${x.toFixed(1)} µs`)} |`,
);
const diff = (metric: Metric, a: Mode, b: Mode) => median(series[b][metric] ?? []) - median(series[a][metric] ?? []);
/** How far one mode's rounds spread: a difference smaller than this is the machine, not the code. */
const spread = (metric: Metric, mode: Mode, scale = 1) => {
	const xs = series[mode][metric] ?? [];
	return xs.length ? `${(Math.min(...xs) / scale).toFixed(2)}–${(Math.max(...xs) / scale).toFixed(2)}` : '-';
};
const body = `A Node https server doing about 0.5 ms of work per request, a keep-alive client with ${CONCURRENCY} sockets in a
closed loop for ${SECONDS} s, the profiler at ${FREQUENCY} Hz on the server only, the TLS capture on the server only. The three modes
alternate within each round; medians of ${ROUNDS} rounds on a 2-core machine shared with other work (1-minute load average at the end:
${loadavg()[0]!.toFixed(1)}). Kernel times are run_time_ns / run_cnt (kernel.bpf_stats_enabled=1): the profile program per sample, the
tls SSL_read/SSL_write probes per request (where a request opens and is answered).

| mode | req/s | profile BPF per sample | samples stamped | tls BPF per request | server CPU per request | collector CPU per request |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

- Per sample, in the kernel: stamped samples cost the profile program ${diff('sampleNs', 'capture', 'capture + attribution').toFixed(0)} ns more than the same load with an empty request map (the lookup is made either way; stamps make more distinct keys to count); the rounds of the capture mode alone spread over ${spread('sampleNs', 'capture')} ns.
- Per request, in the kernel: keeping the request context adds ${(diff('tlsNsPerRequest', 'capture', 'capture + attribution') / 1000).toFixed(2)} µs of tls BPF time (opening the request on its read, answering it on its write); the capture mode's rounds alone spread over ${spread('tlsNsPerRequest', 'capture', 1000)} µs.
- Per request, in the collector: ${synthetic.perRequestUs.toFixed(2)} µs of bookkeeping (its start, its answer and its part of the window close; synthetic, no kernel), and ${synthetic.perSampleUs.toFixed(2)} µs per stamped sample held and labelled at its window's close (${synthetic.perAmbiguousSampleUs.toFixed(2)} µs for an ambiguous one, which also gets the list of slow requests whose lifetime on its thread may hold it: 20,000 requests on one thread, four open at a time, 1.2% of them slow); measured end to end above, the collector's CPU per request moves by ${diff('collectorUs', 'capture', 'capture + attribution').toFixed(1)} µs (request line parse included).

Run: \`npx tsx bench/request-attribution.ts\` (${new Date().toISOString().slice(0, 10)}).`;
console.log(body);
if (!args['no-write']) writeResultsSection('Request attribution cost', body);
