import {
	REQUEST_LATENCY_BUCKETS,
	type ConnectionRow,
	type EndpointRequestStats,
	type ProcessRow,
	type RequestRecord,
} from '@firesight/protocol';
import { openFakeIngest } from './fake-ingest.ts';
import { endpointStats } from './request-records.ts';

/**
 * A collector without BPF that sends the live snapshots of a busy host through the hub's real
 * ingest: a process table of `processes` rows (a quarter of them idle kernel threads), a
 * connection table of `connections` rows, `requestsPerSec` HTTPS requests a second (clients are
 * short-lived `curl` processes, a new pid for each, served by a few `nginx` workers), and every
 * `windowMs` the request and retransmit windows the hub stores. Benchmarks and e2e tests drive
 * the live pages with it.
 */
export interface FakeLiveLoadOptions {
	hubUrl: string;
	token: string;
	host?: string;
	processes?: number;
	connections?: number;
	requestsPerSec?: number;
	windowMs?: number;
}

export interface FakeLiveLoad {
	close(): Promise<void>;
	/** The pids of the idle kernel threads and of the busy processes, for tests to look for. */
	idleKernelPids: readonly number[];
	busyPids: readonly number[];
	/** Pids of the curl processes that made requests so far. */
	clientPids(): readonly number[];
}

const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const ENDPOINTS = ['/api/users/:id', '/api/orders', '/api/orders/:id/items', '/healthz', '/static/app.js', '/api/search'];

function bucketOf(ms: number): number {
	const us = ms * 1000;
	return Math.max(0, Math.min(REQUEST_LATENCY_BUCKETS - 1, Math.floor(Math.log2(Math.max(1, us)))));
}

export async function startFakeLiveLoad(options: FakeLiveLoadOptions): Promise<FakeLiveLoad> {
	const host = options.host ?? 'busy-host';
	const processCount = options.processes ?? 1_000;
	const connectionCount = options.connections ?? 1_000;
	const requestsPerSec = options.requestsPerSec ?? 100;
	const windowMs = options.windowMs ?? 10_000;
	const ingest = await openFakeIngest(options.hubUrl, options.token, { host, version: '0.1.0-fake-load', frequencyHz: 99, protocol: 1 });
	const { send } = ingest;

	const kernelCount = Math.floor(processCount / 4);
	const idleKernelPids: number[] = [];
	const busyPids: number[] = [];
	const base: ProcessRow[] = [];
	for (let i = 0; i < processCount; i++) {
		const pid = 100 + i;
		if (i < kernelCount) {
			const comm = `kworker/${i % 2}:${i}`;
			base.push({ pid, comm, cmdline: `[${comm}]`, cpuPercent: 0, samplesPerSec: 0, kernelThread: true });
			// Every tenth kernel thread works a little, the rest stay idle.
			if (i % 10 !== 0) idleKernelPids.push(pid);
			continue;
		}
		const comm = ['node', 'postgres', 'nginx', 'python3', 'java'][i % 5]!;
		base.push({ pid, comm, cmdline: `/usr/bin/${comm} --worker ${i}`, cpuPercent: 0, samplesPerSec: 0 });
		if (i % 7 === 0) busyPids.push(pid);
	}
	const serverPids = [busyPids[0] ?? 100, busyPids[1] ?? 101, busyPids[2] ?? 102];
	const started = Date.now();
	const connections: ConnectionRow[] = Array.from({ length: connectionCount }, (_, i) => {
		const pid = base[kernelCount + (i % Math.max(1, processCount - kernelCount))]?.pid ?? 100;
		const sport = 40_000 + (i % 20_000);
		return {
			key: `4|10.0.0.1:${sport}|10.0.${(i >> 8) & 255}.${i & 255}:443|${pid}`,
			cookie: String(1_000_000 + i),
			pid,
			comm: 'node',
			family: 4,
			saddr: '10.0.0.1',
			sport,
			daddr: `10.0.${(i >> 8) & 255}.${i & 255}`,
			dport: 443,
			state: i % 13 === 0 ? 'TIME_WAIT' : 'ESTABLISHED',
			direction: 'active',
			openedAt: started - i * 1000,
			openedBeforeTracing: false,
			closedAt: null,
			ageMs: 0,
			bytesSent: 0,
			bytesReceived: 0,
			retransmits: i % 17 === 0 ? 3 : 0,
			retransmitsPerSecond: 0,
			firstRetransmitAt: null,
			lastRetransmitAt: null,
		};
	});

	let nextClientPid = 20_000;
	const clients: number[] = [];
	let pending: RequestRecord[] = [];
	const endpointsInWindow = new Map<string, EndpointRequestStats>();
	const countInWindow = (r: RequestRecord) => {
		const key = `${r.pid}|${r.role}|${r.method}|${r.endpoint}`;
		let stats = endpointsInWindow.get(key);
		if (!stats) {
			stats = endpointStats({ pid: r.pid, comm: r.comm, role: r.role, method: r.method, endpoint: r.endpoint });
			endpointsInWindow.set(key, stats);
		}
		stats.count += 1;
		if (r.status >= 500) stats.errors += 1;
		else if (r.status >= 400) stats.clientErrors += 1;
		stats.reqBytes += r.reqBytes;
		stats.respBytes += r.respBytes;
		stats.sumLatencyMs += r.latencyMs;
		stats.maxLatencyMs = Math.max(stats.maxLatencyMs, r.latencyMs);
		stats.histogram[bucketOf(r.latencyMs)]! += 1;
	};
	let seq = 0;
	const makeRequests = (now: number, n: number) => {
		for (let k = 0; k < n; k++) {
			const i = seq++;
			const method = METHODS[i % METHODS.length]!;
			const endpoint = ENDPOINTS[i % ENDPOINTS.length]!;
			const path = endpoint.replace(':id', String(1000 + (i % 500)));
			const status = i % 37 === 0 ? 503 : i % 11 === 0 ? 404 : 200;
			const latencyMs = 0.4 + ((i * 7919) % 1000) / 20;
			const clientPid = nextClientPid++;
			clients.push(clientPid);
			const serverPid = serverPids[i % serverPids.length]!;
			const ts = now - 1000 + (k * 1000) / n;
			const common = {
				ts,
				method,
				path: `${path}?token=REDACTED`,
				endpoint,
				status,
				latencyMs,
				reqBytes: 180 + (i % 50),
				respBytes: 900 + ((i * 13) % 4000),
				httpVersion: '1.1',
				requestHeaders: [
					['Host', 'api.internal'],
					['Authorization', 'REDACTED'],
					['Accept', '*/*'],
				] as [string, string][],
				responseHeaders: [
					['Content-Type', 'application/json'],
					['Set-Cookie', 'REDACTED'],
				] as [string, string][],
			};
			const requestId = `fakeboot:${i}`;
			const pair: RequestRecord[] = [
				{
					...common,
					pid: clientPid,
					comm: 'curl',
					role: 'client',
					local: '10.0.0.1:50000',
					remote: '10.0.0.2:443',
					connection: `${clientPid}:3:1`,
				},
				{
					...common,
					pid: serverPid,
					comm: 'nginx',
					role: 'server',
					local: '10.0.0.2:443',
					remote: '10.0.0.1:50000',
					connection: `${serverPid}:9:${i}`,
					requestId,
				},
			];
			for (const r of pair) {
				pending.push(r);
				countInWindow(r);
			}
		}
	};

	let tick = 0;
	const liveTick = () => {
		const now = Date.now();
		tick += 1;
		const rows = base.map((row, i): ProcessRow => {
			const working = busyPids.includes(row.pid) || (row.kernelThread && i % 10 === 0);
			if (!working) return row;
			const cpuPercent = Math.round((5 + ((i * 31 + tick * 17) % 60)) * 10) / 10;
			return { ...row, cpuPercent, samplesPerSec: (cpuPercent / 100) * 99 };
		});
		send({
			type: 'live',
			stats: { host, ts: now, frequencyHz: 99, processes: rows, drops: {}, features: { running: ['profile', 'tcp', 'tls'], failed: [] } },
		});
		for (const c of connections) {
			c.ageMs = now - c.openedAt;
			c.bytesSent += 1500;
			c.bytesReceived += 9000;
		}
		send({
			type: 'connections',
			snapshot: {
				host,
				ts: now,
				connections,
				omitted: 0,
				processes: [],
				totals: {
					connections: connections.length,
					openConnections: connections.length,
					retransmits: connections.reduce((s, c) => s + c.retransmits, 0),
					retransmitsPerSecond: 0,
				},
			},
		});
		makeRequests(now, requestsPerSec);
		send({ type: 'requests', batch: { host, ts: now, requests: pending, omitted: 0 } });
		pending = [];
	};
	let windowStart = Date.now();
	const windowTick = () => {
		const end = Date.now();
		const window = { host, startMs: windowStart, durationMs: Math.max(1, end - windowStart) };
		send({ type: 'requestWindow', window: { ...window, processes: [], endpoints: [...endpointsInWindow.values()] } });
		const lossy = connections.filter((c) => c.retransmits > 0).slice(0, 20);
		send({
			type: 'retransmitWindow',
			window: {
				...window,
				connections: lossy.map((c) => ({
					cookie: c.cookie,
					pid: c.pid,
					comm: c.comm,
					family: c.family,
					saddr: c.saddr,
					sport: c.sport,
					daddr: c.daddr,
					dport: c.dport,
					state: c.state,
					retransmits: 1 + (tick % 3),
					firstRetransmitAt: windowStart,
					lastRetransmitAt: end,
				})),
			},
		});
		endpointsInWindow.clear();
		windowStart = end;
	};
	liveTick();
	ingest.every(1_000, liveTick);
	ingest.every(windowMs, windowTick);
	return { idleKernelPids, busyPids, clientPids: () => clients, close: ingest.close };
}
