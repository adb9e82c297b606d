/**
 * What TLS capture costs a busy HTTPS service: a Node https server under load from a local Node
 * client (both their own processes, both with Node's OpenSSL, so both are traced), measured with
 * capture off, with Firesight's TlsCapture on, with it keeping the request context that CPU
 * samples are attributed with, and with a bpftrace script putting entry and return uprobes on the
 * same four functions (counting calls and bytes, no payload copy) as the peer.
 *
 * Loads per mode: closed loop (as fast as it goes: throughput) and open loops at fixed rates
 * (latency and drops; 1,000 and 5,000 requests/s by default). Every mode's closed loop has a
 * closed loop with capture off right next to it (before it in one round, after it in the next), and
 * its throughput and CPU are taken against that one: a slow phase of a shared machine then hits
 * both sides of a ratio alike, whatever mode it falls on. Many short rounds, then the median and
 * the spread over rounds. CPU is read from /proc for the
 * server and reported by the client, so the cost per request and per SSL call is measured, not
 * inferred from throughput. The CPU profiler samples the server at 999 Hz in every mode (it is
 * what attribution stamps; its own cost is in every row alike). With kernel.bpf_stats_enabled,
 * the capture's programs are timed per request (SSL probes, socket syscall hooks) and the profile
 * program per sample, so attribution's cost shows per request and per sample.
 *
 *   npx tsx bench/tls-overhead.ts [--seconds 3] [--rates 1000,5000] [--rounds 7] [--no-bpftrace]
 *                                 [--baseline DIR] [--no-write] [--help]
 * --baseline DIR measures the TlsCapture and TLS feature of another checkout (an older commit with
 * its addon built, e.g. from `git archive` plus `npm run build -w @firesight/native`) as one more
 * mode of the same rounds: before and after side by side under the same background load.
 * Needs root. Writes the "TLS capture" section of bench/RESULTS.md.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RequestAttribution } from '@firesight/collector/request-attribution';
import { TlsCapture, tlsFeature } from '@firesight/collector/tls';
import { Profiler, type DrainedWindow } from '@firesight/native';
import { freePort } from '@firesight/testing/free-port';
import { makeCert, startNodeServer } from '@firesight/testing/tls-peers';
import { benchArgs, positiveList, positiveNumber, text, wholeNumber } from './bench-args.ts';
import { startBpftrace } from './bpftrace.ts';

const { values: args } = benchArgs({
	name: 'tls-overhead',
	summary: 'What TLS capture costs a busy HTTPS service, against bpftrace uprobes on the same functions (as root).',
	writes: 'the "TLS capture" section of bench/RESULTS.md',
	options: {
		seconds: { check: positiveNumber(), placeholder: 'N', help: 'seconds per load', default: '3' },
		rounds: { check: wholeNumber(), placeholder: 'N', help: 'rounds; each runs every mode once', default: '7' },
		rates: { check: positiveList(), placeholder: 'A,B', help: 'open-loop rates in requests/s', default: '1000,5000' },
		concurrency: { check: wholeNumber(), placeholder: 'N', help: 'keep-alive sockets of the client', default: '8' },
		baseline: { check: text(), placeholder: 'DIR', help: 'also measure the capture of another checkout with its addon built' },
		'no-bpftrace': { flag: true, help: 'leave out the bpftrace mode' },
		'bpftrace-close': {
			flag: true,
			help: "also bpftrace with close's syscall tracepoint, as the capture had it before it saw closes through the TCP state one",
		},
		'no-write': { flag: true, help: 'print the section only' },
	},
});
const SECONDS = args.seconds;
const RATES = args.rates;
const RATE = RATES[0]!;
const FREQUENCY = 999;
const CONCURRENCY = args.concurrency;
const ROUNDS = args.rounds;
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
	/**
	 * This process's CPU while the load ran: with a capture on, what the capture costs in steady
	 * state, apart from its start, its stop, the drains between loads and each new client's exec
	 * (which the capture scans, as every exec on the host).
	 */
	selfCpuMs: number;
}

function procCpuMs(pid: number): number {
	const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
	const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	return ((Number(f[11]) + Number(f[12])) * 1000) / TICK;
}

let phase = 0;

/** Runs one load (closed loop, or open at `rate`); its requests carry a path prefix of their own (returned) so captures can be counted exactly. */
async function load(port: number, serverPid: number, openLoop: boolean, rate = RATE): Promise<LoadResult & { prefix: string }> {
	const prefix = `/bench/${++phase}/`;
	const cpu0 = procCpuMs(serverPid);
	const self0 = process.cpuUsage();
	const child = spawn(
		process.execPath,
		['-e', CLIENT, String(port), openLoop ? '1' : '0', String(SECONDS * 1000), String(rate), String(CONCURRENCY), prefix],
		{
			stdio: ['ignore', 'pipe', 'inherit'],
		},
	);
	let out = '';
	child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
	await new Promise((r) => child.on('exit', r));
	const self = process.cpuUsage(self0);
	const res = JSON.parse(out) as Omit<LoadResult, 'serverCpuMs' | 'selfCpuMs'>;
	console.error(
		`tls-overhead: ${prefix} ${openLoop ? `${rate}/s` : 'closed loop'}: ${(res.count / res.seconds).toFixed(0)} req/s, p99 ${res.p99.toFixed(2)} ms`,
	);
	return { ...res, serverCpuMs: procCpuMs(serverPid) - cpu0, selfCpuMs: (self.user + self.system) / 1000, prefix };
}

/**
 * With `close`, also the syscall tracepoint the capture keeps on close: any syscall tracepoint
 * sends every syscall of every task through the kernel's syscall tracing path, which the uprobes
 * alone do not, so this mode tells that cost apart from the rest of the capture's.
 */
const BPFTRACE_SCRIPT = (bin: string, close: boolean) =>
	['SSL_read', 'SSL_write', 'SSL_read_ex', 'SSL_write_ex']
		.map(
			(f) => `uprobe:${bin}:${f} { @start[tid] = nsecs; @calls = count(); }
uretprobe:${bin}:${f} /@start[tid]/ { if ((int32)retval > 0) { @bytes = sum((int32)retval); @data = count(); } delete(@start[tid]); }`,
		)
		.concat(close ? ['tracepoint:syscalls:sys_enter_close { @closes = count(); }'] : [])
		.join('\n');

interface BpfProg {
	id: number;
	name?: string;
	type: string;
	run_time_ns?: number;
	run_cnt?: number;
}
const progs = (): BpfProg[] => JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j']).toString()) as BpfProg[];
/** The profiler that every mode runs on the server, drained on a timer so its window never fills. */
interface Sampling {
	profiler: Profiler;
	/** Program ids of the perf_event sampler. */
	ids: Set<number>;
	/** Drains now; samples and how many carried a request since the last call. */
	take(): Promise<{ samples: number; stamped: number }>;
	stop(): Promise<void>;
}

async function startSampling(serverPid: number): Promise<Sampling> {
	const before = new Set(progs().map((p) => p.id));
	const profiler = new Profiler({ frequency: FREQUENCY, pids: [serverPid], unwind: 'fp' });
	const ids = new Set(
		progs()
			.filter((p) => !before.has(p.id) && p.type === 'perf_event')
			.map((p) => p.id),
	);
	let acc = { samples: 0, stamped: 0 };
	const add = (w: DrainedWindow) => {
		for (const c of w.counts) {
			acc.samples += c.count;
			if (c.requestId !== undefined) acc.stamped += c.count;
		}
	};
	let draining: Promise<void> = Promise.resolve();
	const drain = () => (draining = draining.then(() => profiler.drain().then(add)));
	const timer = setInterval(() => void drain(), 1000);
	return {
		profiler,
		ids,
		async take() {
			await drain();
			const out = acc;
			acc = { samples: 0, stamped: 0 };
			return out;
		},
		async stop() {
			clearInterval(timer);
			await draining;
			profiler.close();
		},
	};
}

interface FixedRun {
	rate: number;
	load: LoadResult;
	/** Records lost anywhere the capture counts a loss, or not sent over the TLS feature's budget, during this load. */
	drops?: number;
	/** Requests of this load captured (client and server side each). */
	captured?: number;
}

interface BpfCost {
	/** The SSL entry and return probes, per request of the closed loop. */
	sslNsPerRequest: number;
	/** The socket syscall hooks (every process's syscalls pass them), per request. */
	syscallNsPerRequest: number;
	/** Each program (by name; bpftrace names its entry and return probes alike), per request: how often it ran and for how long. */
	programs: Record<string, { runs: number; ns: number }>;
}

interface ModeResult {
	mode: string;
	max: LoadResult;
	/** The closed loop with capture off right next to this mode's (none for "off" itself): what its ratios are taken against. */
	pairedOff?: LoadResult;
	fixed: FixedRun[];
	collectorCpuMs?: number;
	/**
	 * This process's CPU over the same loads with no capture (its profiler drains, bpftool and
	 * client spawns): what collectorCpuMs holds that is the benchmark's, not the capture's.
	 */
	harnessCpuMs?: number;
	sslCalls?: number;
	bpf?: BpfCost;
	/** The profile program per sample during the closed loop, and the share of samples stamped with a request. */
	sampleNs?: number;
	stamped?: number;
}

type CaptureClass = typeof TlsCapture;
/** The capture and the collector's feature around it, from this checkout or a baseline's. */
interface CaptureCode {
	TlsCapture: CaptureClass;
	tlsFeature: typeof tlsFeature;
}

/** Everything the capture counts as lost (calls and bytes are throughput, not loss). */
function losses(c: ReturnType<TlsCapture['counters']>): number {
	let n = 0;
	for (const [name, v] of Object.entries(c.kernel)) if (name !== 'calls' && name !== 'bytes') n += v;
	return n + c.connections.evicted;
}

/** The closed loop with the sampler's and (when given) the capture programs' kernel time around it. */
async function timedMax(port: number, serverPid: number, sampling: Sampling, tlsIds?: Set<number>) {
	await sampling.take();
	const before = new Map(progs().map((p) => [p.id, p]));
	const max = await load(port, serverPid, false);
	const after = progs().filter((p) => before.has(p.id));
	const { samples, stamped } = await sampling.take();
	const delta = (p: BpfProg) => ({
		ns: (p.run_time_ns ?? 0) - (before.get(p.id)!.run_time_ns ?? 0),
		cnt: (p.run_cnt ?? 0) - (before.get(p.id)!.run_cnt ?? 0),
	});
	const sum = (pick: (p: BpfProg) => boolean) =>
		after
			.filter(pick)
			.map(delta)
			.reduce((a, d) => ({ ns: a.ns + d.ns, cnt: a.cnt + d.cnt }), { ns: 0, cnt: 0 });
	const isSsl = (p: BpfProg) => /^ssl_/i.test(p.name ?? '');
	const profile = sum((p) => sampling.ids.has(p.id));
	let bpf: BpfCost | undefined;
	if (tlsIds) {
		const programs: BpfCost['programs'] = {};
		for (const p of after.filter((p) => tlsIds.has(p.id))) {
			const d = delta(p);
			const e = (programs[p.name ?? String(p.id)] ??= { runs: 0, ns: 0 });
			e.runs += d.cnt / max.count;
			e.ns += d.ns / max.count;
		}
		bpf = {
			sslNsPerRequest: sum((p) => tlsIds.has(p.id) && isSsl(p)).ns / max.count,
			syscallNsPerRequest: sum((p) => tlsIds.has(p.id) && !isSsl(p)).ns / max.count,
			programs,
		};
	}
	return {
		max,
		sampleNs: profile.cnt > 0 ? profile.ns / profile.cnt : undefined,
		stamped: samples ? stamped / samples : 0,
		bpf,
	};
}

/** One capture mode: the capture on while every load runs. */
async function captureMode(
	mode: string,
	code: CaptureCode,
	port: number,
	serverPid: number,
	sampling: Sampling,
	offFirst: boolean,
	attribute = false,
): Promise<ModeResult> {
	const pairedOff = offFirst ? await load(port, serverPid, false) : undefined;
	const before = new Set(progs().map((p) => p.id));
	const attribution = attribute ? new RequestAttribution() : undefined;
	const capture = new code.TlsCapture(attribution ? { attribution } : {});
	const byPrefix = new Map<string, number>();
	capture.on('request', (r) => {
		// The load's prefix, cut without a regular expression: this listener runs for every request
		// in the capture's process, so its CPU is counted as the collector's (a regex match and its
		// array took about a tenth of the capture's JavaScript in a profile).
		const end = r.path.startsWith('/bench/') ? r.path.indexOf('/', 7) : -1;
		const p = end > 7 ? r.path.slice(0, end + 1) : '';
		byPrefix.set(p, (byPrefix.get(p) ?? 0) + 1);
	});
	capture.on('error', () => {}); // attach failures of unrelated processes: not this benchmark's business
	// The collector's own path from the capture to the hub's socket: wire form, batches, and the
	// per-second budget, whose overflow (requestsNotSent) is a drop like the kernel's.
	const tls = code.tlsFeature({ create: () => capture, ...(attribution ? { attribution } : {}) }).start({
		host: 'bench',
		log: () => {},
		send: () => {},
	});
	const notSent = () => tls.drops().requestsNotSent ?? 0;
	// By name as well: another collector on the host may load its own programs meanwhile.
	const tlsIds = new Set(
		progs()
			.filter((p) => !before.has(p.id) && /^(ssl|tls)_/.test(p.name ?? ''))
			.map((p) => p.id),
	);
	// Per request, not per start: attaching and the first /proc scan are not what a request costs.
	const cpu0 = process.cpuUsage();
	const fixed: FixedRun[] = [];
	const fixedLoads = async () => {
		for (const rate of RATES) {
			const lost0 = losses(capture.counters()) + notSent();
			const run = await load(port, serverPid, true, rate);
			await new Promise((r) => setTimeout(r, 300)); // the last records' drain
			const drops = losses(capture.counters()) + notSent() - lost0;
			fixed.push({ rate, load: run, drops, captured: byPrefix.get(run.prefix) ?? 0 });
		}
	};
	// The closed loop stays next to its paired one with capture off: first after it, or last before it.
	if (!offFirst) await fixedLoads();
	const timed = await timedMax(port, serverPid, sampling, tlsIds);
	if (offFirst) await fixedLoads();
	const cpu = process.cpuUsage(cpu0);
	await tls.stop();
	return {
		mode,
		...timed,
		pairedOff: pairedOff ?? (await load(port, serverPid, false)),
		fixed,
		collectorCpuMs: (cpu.user + cpu.system) / 1000,
	};
}

async function plainMode(mode: string, port: number, serverPid: number, sampling: Sampling): Promise<ModeResult> {
	const cpu0 = process.cpuUsage();
	const timed = await timedMax(port, serverPid, sampling);
	const fixed: FixedRun[] = [];
	for (const rate of RATES) {
		fixed.push({ rate, load: await load(port, serverPid, true, rate) });
		await new Promise((r) => setTimeout(r, 300)); // as the capture modes wait for their last drain
	}
	const cpu = process.cpuUsage(cpu0);
	return { mode, max: timed.max, sampleNs: timed.sampleNs, stamped: timed.stamped, fixed, harnessCpuMs: (cpu.user + cpu.system) / 1000 };
}

/** bpftrace's mode, paired with a closed loop with capture off as the capture modes are (the same order). */
async function bpftraceMode(
	mode: string,
	bin: string,
	close: boolean,
	port: number,
	serverPid: number,
	sampling: Sampling,
	offFirst: boolean,
): Promise<ModeResult> {
	const pairedOff = offFirst ? await load(port, serverPid, false) : undefined;
	const known = new Set(progs().map((p) => p.id));
	const bt = await startBpftrace(BPFTRACE_SCRIPT(bin, close));
	// Its probes' programs (bpftrace names them after the probed function), timed as the capture's are.
	const ids = new Set(
		progs()
			.filter((p) => !known.has(p.id) && /^(SSL_(read|write)(_ex)?|sys_enter_close)$/.test(p.name ?? ''))
			.map((p) => p.id),
	);
	let timed: Awaited<ReturnType<typeof timedMax>> | undefined;
	const fixed: FixedRun[] = [];
	if (offFirst) timed = await timedMax(port, serverPid, sampling, ids);
	for (const rate of RATES) {
		fixed.push({ rate, load: await load(port, serverPid, true, rate) });
		await new Promise((r) => setTimeout(r, 300)); // as the capture modes wait for their last drain
	}
	if (!offFirst) timed = await timedMax(port, serverPid, sampling, ids);
	const out = await bt.stop();
	return {
		mode,
		max: timed!.max,
		bpf: timed!.bpf,
		sampleNs: timed!.sampleNs,
		stamped: timed!.stamped,
		fixed,
		pairedOff: pairedOff ?? (await load(port, serverPid, false)),
		sslCalls: Number(/@calls: (\d+)/.exec(out)?.[1] ?? NaN),
	};
}

/**
 * One round: "off" (its fixed-rate loads are what the others' latencies are compared with), then
 * every other mode with its paired closed loop with capture off. The paired loop comes first in
 * even rounds and last in odd ones, and the modes' order turns by one each round, so neither a
 * mode's place in the round nor its side of the pair favours it over the rounds.
 */
async function runRound(
	index: number,
	port: number,
	serverPid: number,
	bin: string,
	baseline: CaptureCode | undefined,
	sampling: Sampling,
): Promise<ModeResult[]> {
	const offFirst = index % 2 === 0;
	const firesight = { TlsCapture, tlsFeature };
	const modes: [string, () => Promise<ModeResult>][] = [];
	if (baseline)
		modes.push(['firesight (baseline)', () => captureMode('firesight (baseline)', baseline, port, serverPid, sampling, offFirst)]);
	modes.push(['firesight', () => captureMode('firesight', firesight, port, serverPid, sampling, offFirst)]);
	modes.push([
		'firesight + attribution',
		() => captureMode('firesight + attribution', firesight, port, serverPid, sampling, offFirst, true),
	]);
	if (!args['no-bpftrace'] && spawnSync('bpftrace', ['--version']).status === 0) {
		modes.push(['bpftrace', () => bpftraceMode('bpftrace', bin, false, port, serverPid, sampling, offFirst)]);
		if (args['bpftrace-close'])
			modes.push([
				'bpftrace + close tracepoint',
				() => bpftraceMode('bpftrace + close tracepoint', bin, true, port, serverPid, sampling, offFirst),
			]);
	}
	const results = new Map<string, ModeResult>();
	const off = await plainMode('off', port, serverPid, sampling);
	for (let i = 0; i < modes.length; i++) {
		const [name, run] = modes[(i + index) % modes.length]!;
		results.set(name, await run());
	}
	// Reported in one fixed order, whatever order they ran in.
	return [off, ...modes.map(([name]) => results.get(name)!)];
}

const signed = (x: number, digits: number) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function main(): Promise<void> {
	if (process.getuid?.() !== 0) throw new Error('the benchmark loads BPF programs: run it as root');
	const cert = makeCert();
	const port = await freePort();
	const server = await startNodeServer(cert, port);
	const rounds: ModeResult[][] = [];
	const statsPath = '/proc/sys/kernel/bpf_stats_enabled';
	const statsBefore = readFileSync(statsPath, 'utf8').trim();
	writeFileSync(statsPath, '1');
	const sampling = await startSampling(server.pid!);
	const baseline = args.baseline
		? ((await import(pathToFileURL(join(resolve(args.baseline), 'apps/collector/src/tls/index.ts')).href)) as CaptureCode)
		: undefined;
	try {
		// Warm up JIT and TLS sessions so the first mode is not penalized.
		await load(port, server.pid!, false);
		// Modes alternate within each round, so background load hits them alike.
		for (let i = 0; i < ROUNDS; i++) rounds.push(await runRound(i, port, server.pid!, process.execPath, baseline, sampling));
	} finally {
		await sampling.stop();
		writeFileSync(statsPath, statsBefore);
		server.kill();
		cert.remove();
	}
	report(rounds);
}

function report(rounds: ModeResult[][]): void {
	const modes = rounds[0]!.map((m) => m.mode);
	const perReq = (l: LoadResult) => ((l.cpuMs + l.serverCpuMs) / l.count) * 1000; // µs of peer CPU per request
	const rps = (m: ModeResult) => m.max.count / m.max.seconds;
	/**
	 * What a mode is compared with in its round: "off" (its fixed-rate loads and the harness's
	 * CPU), with the closed loop paired with the mode's own in place of off's.
	 */
	const against = (m: ModeResult, r: ModeResult[]): ModeResult => (m.pairedOff ? { ...r[0]!, max: m.pairedOff } : r[0]!);
	const ratioOf = (m: ModeResult, off: ModeResult) => rps(m) / rps(off);
	/** f(this mode's result, what it is compared with) in each round. */
	const perRound = (mode: string, f: (m: ModeResult, off: ModeResult) => number) =>
		rounds.map((r) => {
			const m = r.find((x) => x.mode === mode)!;
			return f(m, against(m, r));
		});
	/** The median over rounds of f(this mode's result, what it is compared with in the same round). */
	const med = (mode: string, f: (m: ModeResult, off: ModeResult) => number) => median(perRound(mode, f));
	/** The lowest and highest over rounds, beside a median: how far one round can be from it. */
	const spread = (mode: string, f: (m: ModeResult, off: ModeResult) => number, digits: number) => {
		const xs = perRound(mode, f).filter(Number.isFinite);
		return xs.length > 1 ? ` (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})` : '';
	};
	const at = (m: ModeResult, rate: number) => m.fixed.find((f) => f.rate === rate)!;
	const requestsOf = (m: ModeResult) => m.max.count + m.fixed.reduce((n, f) => n + f.load.count, 0);
	const secondsOf = (m: ModeResult) => m.max.seconds + m.fixed.reduce((n, f) => n + f.load.seconds, 0);
	/** The capture's own CPU: the process's over a capture mode's loads less the harness's (off, same round) over as long. */
	const captureCpuMs = (m: ModeResult) => {
		const off = rounds.find((r) => r.includes(m))?.[0];
		const harness = off?.harnessCpuMs !== undefined ? (off.harnessCpuMs / secondsOf(off)) * secondsOf(m) : 0;
		return Math.max(0, (m.collectorCpuMs ?? 0) - harness);
	};
	const collectorUs = (m: ModeResult) => (captureCpuMs(m) * 1000) / requestsOf(m);
	const collectorPct = (m: ModeResult) => (captureCpuMs(m) / (secondsOf(m) * 1000)) * 100;
	/** Before the harness's share is taken off, as earlier runs reported it. */
	const processUs = (m: ModeResult) => ((m.collectorCpuMs ?? 0) * 1000) / requestsOf(m);
	const harnessUs = (m: ModeResult) => ((m.harnessCpuMs ?? 0) * 1000) / requestsOf(m);
	const bt = rounds.flatMap((r) => r.filter((m) => m.mode === 'bpftrace' && m.sslCalls));
	// SSL calls per request (all of them, including those that return "want more"), from bpftrace.
	const callsPerRequest = bt.length ? median(bt.map((m) => m.sslCalls! / requestsOf(m))) : undefined;
	const isCapture = (mode: string) => mode.startsWith('firesight');
	const lines: string[] = [];
	lines.push('## TLS capture', '');
	lines.push(`Node https server and a Node keep-alive client (${CONCURRENCY} sockets) on loopback, both with Node's`);
	lines.push(`own OpenSSL, so both are traced: every request is 4 data-carrying SSL calls (client write and read,`);
	lines.push(`server read and write). ${SECONDS} s per load; "fixed" is an open loop at ${RATES.join(' and ')} requests/s. Peer CPU is`);
	lines.push('server (from /proc) plus client (its own process.cpuUsage), per request of the closed loop; collector CPU is the');
	lines.push(
		"capture's process (decoding, HTTP parsing, aggregates, and the collector's TLS feature: wire form and batches) over every load, per request, from after the capture started,",
	);
	lines.push(
		"less that process's CPU over the same loads in the same round's \"off\" (per second of load: the benchmark's own profiler drains, bpftool and client spawns).",
	);
	lines.push(
		'Drops are every loss the capture counts (kernel and reassembly) plus the requests the TLS feature did not send over its per-second budget (`tls.requestsNotSent`).',
	);
	lines.push(`"firesight + attribution" also keeps each thread's request in the kernel and tells the collector's`);
	lines.push(`request attribution about each one. The CPU profiler samples the server at ${FREQUENCY} Hz in every mode. 2 shared`);
	lines.push(`cores, a VM, other work running: every mode's closed loop runs right next to a closed loop with capture off`);
	lines.push(`(before it in even rounds, after it in odd ones; the modes' order turns each round), and its throughput ratio and`);
	lines.push(`peer CPU added are taken against that one; latencies against the same round's "off". Every number is the median`);
	lines.push(
		`over ${rounds.length} rounds, the throughput ratio with its lowest and highest round in brackets (1-minute load average at the end: ${loadavg()[0]!.toFixed(1)}).`,
	);
	lines.push('CPU per request moves far less with background load than requests/s does: compare those first.', '');
	lines.push(
		`| mode | max req/s | throughput ratio | ${RATE}/s p50 ms | ${RATE}/s p99 ms | p99 ratio | peer CPU µs/request | peer CPU added | collector CPU µs/request | collector CPU | drops |`,
	);
	lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
	const dropsOf = (mode: string, rate?: number) =>
		rounds
			.flat()
			.filter((m) => m.mode === mode)
			.reduce((n, m) => n + m.fixed.filter((f) => rate === undefined || f.rate === rate).reduce((k, f) => k + (f.drops ?? 0), 0), 0);
	for (const mode of modes) {
		const capture = isCapture(mode);
		lines.push(
			`| ${mode} | ${med(mode, rps).toFixed(0)} | ${med(mode, ratioOf).toFixed(3)}${mode === 'off' ? '' : spread(mode, ratioOf, 2)} | ` +
				`${med(mode, (m) => at(m, RATE).load.p50).toFixed(2)} | ${med(mode, (m) => at(m, RATE).load.p99).toFixed(2)} | ${med(mode, (m, off) => at(m, RATE).load.p99 / at(off, RATE).load.p99).toFixed(2)} | ` +
				`${med(mode, (m) => perReq(m.max)).toFixed(0)} | ${
					mode === 'off'
						? '-'
						: signed(
								med(mode, (m, off) => perReq(m.max) - perReq(off.max)),
								0,
							)
				} | ` +
				`${capture ? med(mode, collectorUs).toFixed(0) : '-'} | ${capture ? `${med(mode, collectorPct).toFixed(1)}% of a core` : '-'} | ${capture ? dropsOf(mode) : '-'} |`,
		);
	}
	lines.push(
		'',
		'Open loops at fixed rates (the client keeps at most 256 requests in flight, so an overloaded mode falls short of the rate):',
		'',
	);
	lines.push('| mode | rate | achieved req/s | p50 ms | p99 ms | p99 ratio | drops | every request captured on both sides |');
	lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
	for (const rate of RATES) {
		for (const mode of modes) {
			const runs = rounds.flat().filter((m) => m.mode === mode);
			const all = runs.every((m) => at(m, rate).captured === 2 * at(m, rate).load.count);
			lines.push(
				`| ${mode} | ${rate} | ${med(mode, (m) => at(m, rate).load.count / at(m, rate).load.seconds).toFixed(0)} | ` +
					`${med(mode, (m) => at(m, rate).load.p50).toFixed(2)} | ${med(mode, (m) => at(m, rate).load.p99).toFixed(2)} | ` +
					`${med(mode, (m, off) => at(m, rate).load.p99 / at(off, rate).load.p99).toFixed(2)} | ` +
					`${isCapture(mode) ? dropsOf(mode, rate) : '-'} | ${isCapture(mode) ? (all ? 'yes' : 'no') : '-'} |`,
			);
		}
	}
	const num = (mode: string, f: (m: ModeResult) => number | undefined) => {
		const xs = rounds
			.flat()
			.filter((m) => m.mode === mode)
			.map(f)
			.filter((x): x is number => x !== undefined && Number.isFinite(x));
		return xs.length ? median(xs) : undefined;
	};
	const show = (x: number | undefined, digits: number, unit: string) => (x === undefined ? '-' : `${x.toFixed(digits)}${unit}`);
	lines.push(
		'',
		`Kernel time (kernel.bpf_stats_enabled=1, run_time_ns over the closed loop): the capture's (or bpftrace's) programs per request,`,
	);
	lines.push('the profile program per sample (its samples stamped with a request: attribution at work).', '');
	lines.push('| mode | SSL probes µs/request | socket syscall hooks µs/request | profile program ns/sample | samples stamped |');
	lines.push('| --- | ---: | ---: | ---: | ---: |');
	for (const mode of modes) {
		lines.push(
			`| ${mode} | ${show(
				num(mode, (m) => m.bpf && m.bpf.sslNsPerRequest / 1000),
				2,
				'',
			)} | ${show(
				num(mode, (m) => m.bpf && m.bpf.syscallNsPerRequest / 1000),
				2,
				'',
			)} | ` +
				`${show(
					num(mode, (m) => m.sampleNs),
					0,
					'',
				)} | ${show(
					num(mode, (m) => (m.stamped ?? 0) * 100),
					1,
					'%',
				)} |`,
		);
	}
	lines.push(
		'',
		'Each program, per request of the closed loop (median over rounds; bpftrace names an entry probe and its return alike):',
		'',
	);
	lines.push('| mode | program | runs/request | ns/run | ns/request |');
	lines.push('| --- | --- | ---: | ---: | ---: |');
	for (const mode of modes) {
		const names = new Set(
			rounds
				.flat()
				.filter((m) => m.mode === mode)
				.flatMap((m) => Object.keys(m.bpf?.programs ?? {})),
		);
		for (const name of [...names].sort()) {
			const runs = num(mode, (m) => m.bpf?.programs[name]?.runs);
			const ns = num(mode, (m) => m.bpf?.programs[name]?.ns);
			if (!runs || ns === undefined) continue; // never ran in the closed loop (exec, exit, close)
			lines.push(`| ${mode} | ${name} | ${runs.toFixed(2)} | ${(ns / runs).toFixed(0)} | ${ns.toFixed(0)} |`);
		}
	}
	lines.push('');
	for (const mode of modes.filter((m) => m !== 'off')) {
		const extra = med(mode, (m, off) => perReq(m.max) - perReq(off.max));
		const what =
			mode === 'bpftrace'
				? 'bpftrace (uprobe + uretprobe on the same four functions, counting only)'
				: mode === 'bpftrace + close tracepoint'
					? "bpftrace with close's syscall tracepoint as well (counting closes)"
					: mode;
		lines.push(
			`- ${what}: ${signed(extra, 0)} µs of peer CPU per request` +
				(callsPerRequest ? `, ${(extra / callsPerRequest).toFixed(1)} µs per SSL call` : '') +
				(isCapture(mode) ? `, plus ${med(mode, collectorUs).toFixed(0)} µs of collector CPU per request` : '') +
				'.',
		);
	}
	if (modes.includes('firesight + attribution')) {
		const diff = (f: (m: ModeResult, off: ModeResult) => number | undefined) =>
			median(
				rounds.map((r) => {
					const am = r.find((m) => m.mode === 'firesight + attribution')!;
					const bm = r.find((m) => m.mode === 'firesight')!;
					const a = f(am, against(am, r));
					const b = f(bm, against(bm, r));
					return a === undefined || b === undefined ? NaN : a - b;
				}),
			);
		lines.push(
			`- Attribution, against firesight in the same round: per request ${(diff((m) => m.bpf && m.bpf.sslNsPerRequest) / 1000).toFixed(2)} µs of SSL probe time in the kernel, ` +
				`${diff((m, off) => perReq(m.max) - perReq(off.max)).toFixed(1)} µs of peer CPU and ${diff(collectorUs).toFixed(1)} µs of collector CPU; ` +
				`per sample ${diff((m) => m.sampleNs).toFixed(0)} ns of profile program time. Differences smaller than the rounds' spread are noise.`,
		);
	}
	lines.push(
		`- The benchmark's own process with capture off: ${med('off', harnessUs).toFixed(1)} µs per request; the capture modes' whole process, before it is taken off: ` +
			modes
				.filter(isCapture)
				.map((mode) => `${mode} ${med(mode, processUs).toFixed(1)} µs`)
				.join(', ') +
			'.',
	);
	// The table's collector CPU spans everything from the capture's start to its stop, over loads of
	// a few seconds: the capture's scans of each new client's exec (and of every other exec on the
	// host), the drains between loads and the warm-up after start weigh on it more the shorter the
	// loads. This is the same process's CPU while the closed loop alone ran, less that of its paired
	// closed loop with capture off: the capture's cost in steady state. (The open loops' own would be
	// taken against "off"'s, whose profiler drains move it by more than the capture costs at 1000/s.)
	const steadyUs = (m: ModeResult, off: ModeResult) =>
		((m.max.selfCpuMs - (off.max.selfCpuMs / off.max.seconds) * m.max.seconds) * 1000) / m.max.count;
	lines.push(
		'- Collector CPU while the closed loop alone runs (steady state), per request: ' +
			modes
				.filter(isCapture)
				.map((mode) => `${mode} ${med(mode, steadyUs).toFixed(1)} µs${spread(mode, steadyUs, 1)}`)
				.join(', ') +
			'.',
	);
	if (callsPerRequest)
		lines.push(`- ${callsPerRequest.toFixed(1)} SSL calls per request (counted by bpftrace; entry and return probe each).`);
	const base = modes.includes('firesight (baseline)');
	if (base) {
		const ratio = (f: (m: ModeResult, off: ModeResult) => number) =>
			median(
				rounds.map((r) => {
					const now = r.find((m) => m.mode === 'firesight')!;
					const then = r.find((m) => m.mode === 'firesight (baseline)')!;
					return f(now, against(now, r)) / f(then, against(then, r));
				}),
			);
		lines.push(
			`- firesight against firesight (baseline), per round then median: peer CPU added ×${ratio((m, off) => perReq(m.max) - perReq(off.max)).toFixed(2)}, ` +
				`SSL probe time ×${ratio((m) => m.bpf?.sslNsPerRequest ?? NaN).toFixed(2)}, socket syscall hook time ×${ratio((m) => m.bpf?.syscallNsPerRequest ?? NaN).toFixed(2)}, ` +
				`collector CPU per request ×${ratio(collectorUs).toFixed(2)}, throughput ratio ×${ratio(ratioOf).toFixed(2)}, ${RATE}/s p99 ×${ratio((m) => at(m, RATE).load.p99).toFixed(2)}.`,
		);
	}
	lines.push(
		`- Throughput ratios per round, each against its paired closed loop with capture off (${modes.filter((m) => m !== 'off').join(' / ')}): ${rounds
			.map((r) =>
				r
					.filter((m) => m.mode !== 'off')
					.map((m) => ratioOf(m, against(m, r)).toFixed(2))
					.join(' / '),
			)
			.join('; ')}.`,
	);
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
