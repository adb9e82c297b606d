/**
 * Known answer for request attribution: real https servers whose three routes burn CPU in
 * functions of their own (burnAlpha, burnBeta, burnGamma in Node; burn_alpha, ... in a C library
 * that Python calls), driven by a client with a known mix. Each sample's stack names the route
 * whose code it caught, which the endpoint label must agree with; the share of CPU per endpoint is
 * checked against the servers' own accounting of each handler (process.cpuUsage() in Node,
 * time.thread_time() in Python), not against Firesight.
 *
 * The server runs the real kernel side (tls uprobes, the shared request context, perf_event
 * samples) and the collector's TlsCapture, ProfileSampler and RequestAttribution, limited to the
 * server's pid.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { parseRequestIds, type Profile } from '@firesight/profile';
import type { RequestRecord } from '@firesight/protocol';
import { bpfSkip } from '@firesight/testing/bpf-test-gate';
import { freePort } from '@firesight/testing/free-port';
import { makeCert, runNode, until, waitForPort, type Cert } from '@firesight/testing/tls-peers';
import { FRAME_POINTER_FLAGS } from '@firesight/testing/workloads';
import { ProfileSampler } from './profiling/profile-sampler.ts';
import { RequestAttribution, type RequestAttributionOptions } from './request-attribution.ts';
import { TlsCapture } from './tls/tls-capture.ts';

const skip = bpfSkip();

const ROUTES = ['alpha', 'beta', 'gamma'] as const;
type Route = (typeof ROUTES)[number];
/** Requests per round of the client: alpha is asked for most, gamma least. */
const MIX: Record<Route, number> = { alpha: 3, beta: 2, gamma: 1 };
/** Work per request, in slices: with the mix, about 30%, 40% and 30% of the CPU. */
const SLICES: Record<Route, number> = { alpha: 4, beta: 8, gamma: 12 };
const FREQUENCY = 499;
/** Below this many samples of a route, 95% of them is not a judgement worth making. */
const MIN_SAMPLES = 200;
const SHARE_TOLERANCE = 5;

/**
 * The Node server: each slice of a route's work is one call of its own function, timed with
 * process.cpuUsage(); between slices the handler yields (setImmediate), so that concurrent
 * requests interleave on the event loop as they do in real servers. GET /stats answers the
 * CPU microseconds per route, and its own log: when each request (by its x-seq header) was
 * handled, from its handler's call to its response, and when each slice ran and for how much
 * CPU, on the monotonic clock.
 */
const NODE_SERVER = `
const https = require('https'), fs = require('fs');
const [key, cert, port, slicesJson] = process.argv.slice(1);
const SLICES = JSON.parse(slicesJson);
// A slice is 2 ms of CPU, whatever the machine's speed: the sample counts do not depend on it.
const SLICE_MS = 2;
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
function burnAlpha() { const end = cpuMs() + SLICE_MS; let x = 0; while (cpuMs() < end) for (let i = 0; i < 100000; i++) x = (x + i * i) | 0; return x; }
function burnBeta() { const end = cpuMs() + SLICE_MS; let x = 0; while (cpuMs() < end) for (let i = 0; i < 100000; i++) x = (x + i * i) | 0; return x; }
function burnGamma() { const end = cpuMs() + SLICE_MS; let x = 0; while (cpuMs() < end) for (let i = 0; i < 100000; i++) x = (x + i * i) | 0; return x; }
const burn = { alpha: burnAlpha, beta: burnBeta, gamma: burnGamma };
const cpu = { alpha: 0, beta: 0, gamma: 0 };
const requests = {}, slices = [];
const now = () => Number(process.hrtime.bigint() / 1000n);
let sink = 0;
https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert), keepAliveTimeout: 60000 }, (req, res) => {
	const route = req.url.slice(1);
	const seq = req.headers['x-seq'];
	const started = now();
	req.resume();
	req.on('end', () => {
		if (route === 'stats') { res.end(JSON.stringify({ cpu, requests, slices })); return; }
		let left = SLICES[route];
		const step = () => {
			const t0 = process.cpuUsage();
			const w0 = now();
			sink ^= burn[route]();
			const d = process.cpuUsage(t0);
			cpu[route] += d.user + d.system;
			slices.push([route, w0, now(), d.user + d.system]);
			if (--left > 0) setImmediate(step);
			else {
				if (seq !== undefined) requests[seq] = [route, started, now()];
				res.end(route);
			}
		};
		step();
	});
}).listen(+port, '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
`;

/** Python's http.server with ssl, a thread per connection; the work is in a C library. */
const PYTHON_SERVER = `
import ctypes, json, ssl, sys, threading, time
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
key, cert, port, lib, slices = sys.argv[1], sys.argv[2], int(sys.argv[3]), ctypes.CDLL(sys.argv[4]), json.loads(sys.argv[5])
burn = {'alpha': lib.burn_alpha, 'beta': lib.burn_beta, 'gamma': lib.burn_gamma}
for f in burn.values(): f.argtypes = [ctypes.c_double]
cpu = {'alpha': 0.0, 'beta': 0.0, 'gamma': 0.0}
lock = threading.Lock()
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        route = self.path[1:]
        if route == 'stats':
            with lock: body = json.dumps({'cpu': {r: int(s * 1e6) for r, s in cpu.items()}}).encode()
        else:
            t0 = time.thread_time()
            burn[route](2.0 * slices[route])
            with lock: cpu[route] += time.thread_time() - t0
            body = route.encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
srv = ThreadingHTTPServer(('127.0.0.1', port), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print('ready', flush=True)
srv.serve_forever()
`;

/** Each route's own function: spins until its thread has spent `ms` of CPU. */
const BURN_LIBRARY = `
#include <time.h>
volatile unsigned long sink;
static double thread_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}
#define BURN(name) \\
	void name(double ms) \\
	{ \\
		double end = thread_ms() + ms; \\
		unsigned long x = 0; \\
		while (thread_ms() < end) \\
			for (unsigned long i = 0; i < 200000; i++) \\
				x += i * i; \\
		sink = x; \\
	}
BURN(burn_alpha)
BURN(burn_beta)
BURN(burn_gamma)
`;

/**
 * The client: `rounds` rounds of the mix (shuffled the same way every time), `concurrency`
 * workers with a request in flight each, every worker pausing up to `pauseMs` between its
 * requests (so that requests overlap only some of the time), then GET /stats. Prints the stats.
 */
const CLIENT = `
const https = require('https');
const cfg = JSON.parse(process.argv[1]);
const agent = new https.Agent({ keepAlive: cfg.keepAlive, maxSockets: cfg.concurrency, rejectUnauthorized: false });
let seq = 0;
const get = (path) => new Promise((resolve, reject) => {
	const req = https.get({ host: '127.0.0.1', port: cfg.port, path, agent, headers: { 'x-seq': String(++seq) } }, (res) => {
		let body = '';
		res.on('data', (d) => (body += d));
		res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(path + ': ' + res.statusCode))));
	});
	req.on('error', reject);
});
const plan = [];
for (let r = 0; r < cfg.rounds; r++) for (const [route, n] of Object.entries(cfg.mix)) for (let i = 0; i < n; i++) plan.push(route);
let seed = 7;
for (let i = plan.length - 1; i > 0; i--) { seed = (seed * 1103515245 + 12345) % 2147483648; const j = seed % (i + 1); [plan[i], plan[j]] = [plan[j], plan[i]]; }
(async () => {
	let next = 0;
	const pause = () => new Promise((r) => { seed = (seed * 1103515245 + 12345) % 2147483648; setTimeout(r, (seed % 1000) * cfg.pauseMs / 1000); });
	await Promise.all(Array.from({ length: cfg.concurrency }, async () => {
		while (next < plan.length) {
			await get('/' + plan[next++]);
			if (cfg.pauseMs) await pause();
		}
	}));
	console.log(await get('/stats'));
	agent.destroy();
})().catch((e) => { console.error(e); process.exit(1); });
`;

/**
 * The Node server's own account, on its monotonic clock (µs): each request by x-seq as
 * [route, handler called, response written], each slice as [route, start, end, CPU µs].
 */
interface ServerLog {
	requests: Record<string, [Route, number, number]>;
	slices: [Route, number, number, number][];
}

interface Server {
	pid: number;
	/** Names of the route functions as frames show them. */
	frames: Record<Route, RegExp>;
	stop(): void;
}

async function startServer(cmd: string, args: string[]): Promise<{ child: ChildProcess; pid: number }> {
	const child = spawn(cmd, args, { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'inherit'] });
	await new Promise<void>((resolve, reject) => {
		child.once('exit', (code) => reject(new Error(`${cmd} exited with ${code} before it was ready`)));
		child.stdout!.on('data', (d: Buffer) => {
			if (d.toString().includes('ready')) resolve();
		});
	});
	return { child, pid: child.pid! };
}

/** Per route: the samples caught in its function, and how they were labelled. */
interface RouteTally {
	total: number;
	right: number;
	ambiguous: number;
	unambiguous: number;
	unambiguousRight: number;
}

interface Outcome {
	routes: Record<Route, RouteTally>;
	/** Samples labelled with each route's endpoint, whatever their stack. */
	labelled: Record<Route, number>;
	/** CPU per route by the server's own accounting (µs). */
	cpu: Record<Route, number>;
	/** The Node server's log (ServerLog); absent for Python's. */
	log: ServerLog | undefined;
	records: RequestRecord[];
	profiles: Profile[];
	pid: number;
	/** The kernel's attribution losses (bpf/tls.h): none in these runs. */
	losses: Record<'requestContextFull' | 'requestSlotsFull' | 'responseUnmatched', number>;
	attribution: RequestAttribution;
	labelledSamples: number;
	samples: number;
}

function tally(
	profiles: Profile[],
	pid: number,
	frames: Record<Route, RegExp>,
): Pick<Outcome, 'routes' | 'labelled' | 'labelledSamples' | 'samples'> {
	const zero = (): RouteTally => ({ total: 0, right: 0, ambiguous: 0, unambiguous: 0, unambiguousRight: 0 });
	const routes = { alpha: zero(), beta: zero(), gamma: zero() };
	const labelled = { alpha: 0, beta: 0, gamma: 0 };
	let labelledSamples = 0;
	let samples = 0;
	for (const p of profiles) {
		for (const s of p.samples) {
			if (s.pid !== pid) continue;
			samples += s.weight;
			const endpoint = s.endpoint;
			if (endpoint !== undefined) labelledSamples += s.weight;
			const labelRoute = ROUTES.find((r) => endpoint === `GET /${r}`);
			if (labelRoute) labelled[labelRoute] += s.weight;
			const names = s.stack.map((id) => p.frames[id]!.name);
			const route = ROUTES.find((r) => names.some((n) => frames[r].test(n)));
			if (!route) continue;
			const t = routes[route];
			t.total += s.weight;
			if (labelRoute === route) t.right += s.weight;
			if (s.ambiguous) t.ambiguous += s.weight;
			else {
				t.unambiguous += s.weight;
				if (labelRoute === route) t.unambiguousRight += s.weight;
			}
		}
	}
	return { routes, labelled, labelledSamples, samples };
}

/**
 * Runs the capture and the sampler on the server, drives it with the client, and returns what
 * the labelled profiles say beside what the server says.
 */
interface ClientPlan {
	port: number;
	concurrency: number;
	rounds: number;
	keepAlive: boolean;
	pauseMs: number;
}

async function measure(server: Server, client: ClientPlan, options: RequestAttributionOptions = {}): Promise<Outcome> {
	const attribution = new RequestAttribution(options);
	const records: RequestRecord[] = [];
	const errors: Error[] = [];
	const capture = new TlsCapture({ pids: [server.pid], attribution });
	capture.on('request', (r) => records.push(r));
	capture.on('error', (e) => errors.push(e));
	capture.start();
	const sampler = new ProfileSampler({
		frequency: FREQUENCY,
		pids: [server.pid],
		windowMs: Number.MAX_SAFE_INTEGER,
		tickMs: 0,
		unwind: 'fp',
		attribution,
	});
	const profiles: Profile[] = [];
	// As the collector does: drain every half second, close a window every few seconds.
	let ticks = 0;
	let ticking = Promise.resolve();
	const timer = setInterval(() => {
		ticking = ticking.then(async () => {
			await sampler.tick();
			if (++ticks % 6 === 0) profiles.push(sampler.closeWindow());
		});
	}, 500);
	try {
		assert.ok(await until(() => capture.attachedFiles().length > 0, 30_000), 'the server’s OpenSSL was attached');
		const { stdout } = await runNode(CLIENT, [JSON.stringify({ ...client, mix: MIX })]);
		const stats = JSON.parse(stdout) as { cpu: Record<Route, number> } & Partial<ServerLog>;
		const cpu = stats.cpu;
		const log = stats.requests && stats.slices ? { requests: stats.requests, slices: stats.slices } : undefined;
		const expected = client.rounds * (MIX.alpha + MIX.beta + MIX.gamma) + 1;
		assert.ok(
			await until(() => records.filter((r) => r.role === 'server').length >= expected, 60_000),
			`the capture saw ${records.filter((r) => r.role === 'server').length} of ${expected} requests`,
		);
		clearInterval(timer);
		await ticking;
		await sampler.tick();
		profiles.push(sampler.closeWindow());
		profiles.push(await sampler.stop());
		assert.deepEqual(errors, []);
		const k = capture.counters().kernel;
		const losses = {
			requestContextFull: k.requestContextFull,
			requestSlotsFull: k.requestSlotsFull,
			responseUnmatched: k.responseUnmatched,
		};
		return { ...tally(profiles, server.pid, server.frames), cpu, log, records, profiles, pid: server.pid, losses, attribution };
	} finally {
		clearInterval(timer);
		await ticking.catch(() => undefined);
		await sampler.stop().catch(() => undefined);
		capture.stop();
	}
}

const pct = (n: number, of: number) => (of ? (100 * n) / of : 0);

function report(t: TestContext, o: Outcome): void {
	const cpuTotal = ROUTES.reduce((n, r) => n + o.cpu[r], 0);
	const labelTotal = ROUTES.reduce((n, r) => n + o.labelled[r], 0);
	for (const r of ROUTES) {
		const x = o.routes[r];
		t.diagnostic(
			`${r}: ${x.total} samples in its function, ${pct(x.right, x.total).toFixed(1)}% labelled GET /${r}, ` +
				`${pct(x.ambiguous, x.total).toFixed(1)}% ambiguous, unambiguous ${pct(x.unambiguousRight, x.unambiguous).toFixed(1)}% right; ` +
				`CPU share: server ${pct(o.cpu[r], cpuTotal).toFixed(1)}%, labels ${pct(o.labelled[r], labelTotal).toFixed(1)}%`,
		);
	}
	t.diagnostic(
		`${o.samples} samples of the server, ${pct(o.labelledSamples, o.samples).toFixed(1)}% with an endpoint; unattributed ${o.attribution.stats.samplesUnattributed}`,
	);
}

/** Each endpoint's share of the labelled samples is the server's own share of handler CPU. */
function assertShares(o: Outcome): void {
	const cpuTotal = ROUTES.reduce((n, r) => n + o.cpu[r], 0);
	const labelTotal = ROUTES.reduce((n, r) => n + o.labelled[r], 0);
	for (const r of ROUTES) {
		const ours = pct(o.labelled[r], labelTotal);
		const theirs = pct(o.cpu[r], cpuTotal);
		assert.ok(
			Math.abs(ours - theirs) <= SHARE_TOLERANCE,
			`GET /${r}: ${ours.toFixed(1)}% of labelled samples, ${theirs.toFixed(1)}% of the server's handler CPU`,
		);
	}
}

/**
 * Every server request record carries the requestId its samples would carry, and the samples
 * that kept one (the slowest of each endpoint in each window) name a request of their endpoint.
 */
function assertRecordsLinked(o: Outcome): void {
	assert.deepEqual(o.losses, { requestContextFull: 0, requestSlotsFull: 0, responseUnmatched: 0 }, 'attribution losses in the kernel');
	assert.equal(o.attribution.stats.samplesUnattributed, 0, 'samples of requests never described');
	const served = o.records.filter((r) => r.role === 'server');
	const linked = served.filter((r) => r.requestId?.startsWith(`${o.attribution.boot}:`));
	assert.equal(linked.length, served.length, `${served.length - linked.length} served requests without a requestId`);
	const endpointOf = new Map(served.map((r) => [r.requestId, `${r.method} ${r.endpoint}`]));
	let kept = 0;
	for (const p of o.profiles) {
		for (const s of p.samples) {
			if (s.pid !== o.pid || s.requestId === undefined) continue;
			kept += s.weight;
			if (s.ambiguous !== true) assert.equal(endpointOf.get(s.requestId), s.endpoint, `samples of ${s.requestId} labelled ${s.endpoint}`);
			// An ambiguous sample names slow requests whose lifetime may hold it, whatever their endpoint.
			else for (const e of parseRequestIds(s.requestId)) assert.ok(endpointOf.has(e.requestId), `${e.requestId} named, but served by none`);
		}
	}
	assert.ok(kept > 0, 'no sample kept the requestId of a slow request');
}

/** Points the lifetime view's share of a request's own route may differ from the server's log. */
const LIFETIME_TOLERANCE = 8;
/** Of the samples the server's log predicts in the requests' lifetimes, the share the view must hold at least. */
const LIFETIME_COVERAGE = 0.9;

/**
 * "CPU during this request" for the requests whose samples were ambiguous: the samples their
 * lists name (their thread during their lifetime) hold their own route's function in the share
 * the server's own log predicts. The prediction, per request: the CPU of its route's slices that
 * ran between its handler's call and its response, over the CPU of every slice that ran then;
 * summed over the requests. The view also holds samples that may come from after a request
 * ended (marked `+`, reported): those ran in turns with it, on routes in the same mix, so they
 * dilute the share only a little; LIFETIME_TOLERANCE covers that and the sampling noise. A view
 * that held only each request's stamped samples, or samples from requests that started after it
 * ended, misses by far more (39% against 65% when the view took requests that started after).
 * And the view holds every sample of the thread during the lifetimes: at least
 * LIFETIME_COVERAGE of the samples the slices' CPU makes, at the rate the whole run's slices
 * got samples (a view of each request's stamped samples alone holds about 60%).
 */
function assertLifetimes(t: TestContext, o: Outcome, frames: Record<Route, RegExp>): void {
	const log = o.log;
	assert.ok(log, 'the server kept its log');
	const seqOf = new Map<string, string>();
	for (const r of o.records) {
		const seq = r.requestHeaders.find(([name]) => name === 'x-seq')?.[1];
		if (r.role === 'server' && r.requestId && seq !== undefined) seqOf.set(r.requestId, seq);
	}
	/** Per request named: samples in its route's function, in any route's function, ambiguous, maybe after. */
	const named = new Map<string, { own: number; routes: number; ambiguous: number; mayBeAfter: number }>();
	let unlabelledAmbiguous = 0;
	for (const p of o.profiles) {
		for (const s of p.samples) {
			if (s.pid !== o.pid || s.requestId === undefined) continue;
			const names = s.stack.map((id) => p.frames[id]!.name);
			const route = ROUTES.find((r) => names.some((n) => frames[r].test(n)));
			for (const e of parseRequestIds(s.requestId)) {
				const seq = seqOf.get(e.requestId);
				const mine = seq !== undefined ? log.requests[seq]?.[0] : undefined;
				if (mine === undefined) continue;
				let n = named.get(e.requestId);
				if (!n) named.set(e.requestId, (n = { own: 0, routes: 0, ambiguous: 0, mayBeAfter: 0 }));
				if (route !== undefined) n.routes += s.weight;
				if (route === mine) n.own += s.weight;
				if (s.ambiguous === true) n.ambiguous += s.weight;
				else if (parseRequestIds(s.requestId).length !== 1) unlabelledAmbiguous += s.weight;
				if (e.mayBeAfter) n.mayBeAfter += s.weight;
			}
		}
	}
	assert.equal(unlabelledAmbiguous, 0, 'samples naming several requests are all labelled ambiguous');
	let observedOwn = 0;
	let observedRoutes = 0;
	let mayBeAfter = 0;
	let predictedOwn = 0;
	let predictedAll = 0;
	let requests = 0;
	for (const [requestId, n] of named) {
		if (n.ambiguous === 0) continue;
		const [route, start, end] = log.requests[seqOf.get(requestId)!]!;
		requests++;
		observedOwn += n.own;
		observedRoutes += n.routes;
		mayBeAfter += n.mayBeAfter;
		for (const [r, w0, w1, cpu] of log.slices) {
			if (w0 < start || w1 > end) continue;
			predictedAll += cpu;
			if (r === route) predictedOwn += cpu;
		}
	}
	const observed = pct(observedOwn, observedRoutes);
	const predicted = pct(predictedOwn, predictedAll);
	const after = pct(mayBeAfter, observedRoutes);
	// Samples per µs of slice CPU over the whole run: the profiler's rate as this machine gives it.
	const allSlices = log.slices.reduce((n, x) => n + x[3], 0);
	const allRouteSamples = ROUTES.reduce((n, r) => n + o.routes[r].total, 0);
	const predictedSamples = (predictedAll * allRouteSamples) / allSlices;
	const coverage = observedRoutes / predictedSamples;
	t.diagnostic(
		`${allRouteSamples} samples in route functions for ${(allSlices / 1e6).toFixed(2)} s of slice CPU: ${(allRouteSamples / (allSlices / 1e6)).toFixed(0)} a second at ${FREQUENCY} Hz`,
	);
	t.diagnostic(
		`the lifetimes hold ${observedRoutes} samples in route functions, where the slices' CPU makes ${predictedSamples.toFixed(0)} (${(100 * coverage).toFixed(1)}%)`,
	);
	t.diagnostic(
		`CPU during ${requests} ambiguous requests (their thread during their lifetime): their own route's function ${observed.toFixed(1)}% ` +
			`of ${observedRoutes} samples in route functions, the server's log says ${predicted.toFixed(1)}%; up to ${after.toFixed(1)}% may come from after they ended`,
	);
	assert.ok(requests >= 10, `only ${requests} requests with ambiguous samples`);
	assert.ok(observedRoutes >= MIN_SAMPLES, `only ${observedRoutes} samples in the ambiguous requests' lifetimes`);
	assert.ok(
		coverage >= LIFETIME_COVERAGE,
		`the lifetimes hold ${observedRoutes} samples, ${(100 * coverage).toFixed(1)}% of the ${predictedSamples.toFixed(0)} the server's slices make`,
	);
	assert.ok(
		Math.abs(observed - predicted) <= LIFETIME_TOLERANCE,
		`own route's share ${observed.toFixed(1)}% against the server's ${predicted.toFixed(1)}% (tolerance ${LIFETIME_TOLERANCE} points)`,
	);
}

let cert: Cert;
const cleanups: (() => void)[] = [];
before(() => {
	if (skip) return;
	cert = makeCert();
	cleanups.push(() => cert.remove());
});
after(() => {
	for (const c of cleanups.reverse()) c();
});

async function nodeServer(): Promise<Server & { port: number }> {
	const port = await freePort();
	// Named JavaScript frames, none inlined into another: the stack says which route ran.
	const { child, pid } = await startServer(process.execPath, [
		'--perf-basic-prof',
		'--interpreted-frames-native-stack',
		'--no-turbo-inlining',
		'--max-inlined-bytecode-size=0',
		'-e',
		NODE_SERVER,
		cert.key,
		cert.cert,
		String(port),
		JSON.stringify(SLICES),
	]);
	const server = {
		pid,
		port,
		frames: { alpha: /\bburnAlpha\b/, beta: /\bburnBeta\b/, gamma: /\bburnGamma\b/ },
		stop: () => void child.kill('SIGKILL'),
	};
	cleanups.push(server.stop);
	return server;
}

test(
	'Node https, one request at a time: each route’s CPU is labelled with its endpoint, in the server’s own proportions',
	{ skip },
	async (t) => {
		const server = await nodeServer();
		const o = await measure(server, { port: server.port, concurrency: 1, rounds: 40, keepAlive: true, pauseMs: 0 });
		report(t, o);
		for (const r of ROUTES) {
			const x = o.routes[r];
			assert.ok(x.total >= MIN_SAMPLES, `only ${x.total} samples in ${r}'s function`);
			assert.ok(pct(x.right, x.total) >= 95, `${pct(x.right, x.total).toFixed(1)}% of ${r}'s samples labelled GET /${r}`);
			// One request open at a time: nothing is ambiguous.
			assert.ok(pct(x.ambiguous, x.total) <= 1, `${x.ambiguous} of ${x.total} ${r} samples marked ambiguous`);
		}
		assertShares(o);
		assertRecordsLinked(o);
	},
);

test(
	'Node https, three clients at once: the ambiguous share is reported, unambiguous samples are right, and an ambiguous request’s lifetime holds its own route in the server’s share',
	{ skip },
	async (t) => {
		const server = await nodeServer();
		// Clients that pause between requests: requests overlap part of the time, not all of it.
		// Every request counts as slow, so that each has its "CPU during this request" to check.
		const o = await measure(server, { port: server.port, concurrency: 3, rounds: 60, keepAlive: true, pauseMs: 100 }, { slowMs: 0 });
		report(t, o);
		let ambiguous = 0;
		let total = 0;
		let unambiguous = 0;
		let unambiguousRight = 0;
		for (const r of ROUTES) {
			const x = o.routes[r];
			ambiguous += x.ambiguous;
			total += x.total;
			unambiguous += x.unambiguous;
			unambiguousRight += x.unambiguousRight;
		}
		t.diagnostic(`ambiguous share: ${pct(ambiguous, total).toFixed(1)}% of ${total} samples in the routes' functions`);
		assert.ok(unambiguous >= MIN_SAMPLES, `only ${unambiguous} unambiguous samples`);
		assert.ok(
			pct(unambiguousRight, unambiguous) >= 95,
			`${pct(unambiguousRight, unambiguous).toFixed(1)}% of ${unambiguous} unambiguous samples right`,
		);
		// Handlers that yield between slices interleave on the one thread: that must show.
		assert.ok(ambiguous > 0, 'interleaved requests produced no ambiguous samples');
		assertRecordsLinked(o);
		assertLifetimes(t, o, server.frames);
	},
);

test('Python http.server with ssl, a thread per request: each route’s CPU is labelled with its endpoint', { skip }, async (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-burn-'));
	cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
	writeFileSync(join(dir, 'burn.c'), BURN_LIBRARY);
	execFileSync('clang', [...FRAME_POINTER_FLAGS, '-shared', '-fPIC', '-o', join(dir, 'libburn.so'), join(dir, 'burn.c')]);
	const port = await freePort();
	const { child, pid } = await startServer('python3', [
		'-c',
		PYTHON_SERVER,
		cert.key,
		cert.cert,
		String(port),
		join(dir, 'libburn.so'),
		JSON.stringify(SLICES),
	]);
	cleanups.push(() => void child.kill('SIGKILL'));
	await waitForPort(port);
	const server: Server = {
		pid,
		frames: { alpha: /^burn_alpha$/, beta: /^burn_beta$/, gamma: /^burn_gamma$/ },
		stop: () => void child.kill('SIGKILL'),
	};
	// HTTP/1.0 from http.server: a connection, and a thread, per request; four at once.
	const o = await measure(server, { port, concurrency: 4, rounds: 30, keepAlive: false, pauseMs: 0 });
	report(t, o);
	for (const r of ROUTES) {
		const x = o.routes[r];
		assert.ok(x.total >= MIN_SAMPLES, `only ${x.total} samples in ${r}'s function`);
		assert.ok(pct(x.right, x.total) >= 95, `${pct(x.right, x.total).toFixed(1)}% of ${r}'s samples labelled GET /${r}`);
		// A thread serves one request at a time.
		assert.ok(pct(x.ambiguous, x.total) <= 1, `${x.ambiguous} of ${x.total} ${r} samples marked ambiguous`);
	}
	assertShares(o);
	assertRecordsLinked(o);
});
