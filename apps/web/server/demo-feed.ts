import { WebSocket } from 'ws';
import type { CollectorMessage, Frame, LiveStats, ProfileWindow } from '@firesight/protocol';

/**
 * Synthetic collector for screenshots, UI work and benchmarks: a few made-up processes with
 * stable shares of CPU, streamed to a hub like a real collector would.
 */
export interface DemoFeedOptions {
	hub: string;
	token: string;
	host?: string;
	windowMs?: number;
	/** Distinct stacks per window besides the fixed ones, to make large flame graphs. */
	extraStacks?: number;
}

const FRAMES: Frame[] = [
	{ name: '_start', module: 'burn', kind: 'user' },
	{ name: 'main', module: 'burn', kind: 'user' },
	{ name: 'hot_loop', module: 'burn', kind: 'user' },
	{ name: 'cold_path', module: 'burn', kind: 'user' },
	{ name: 'entry_SYSCALL_64', module: '[kernel.kallsyms]', kind: 'kernel' },
	{ name: 'do_syscall_64', module: '[kernel.kallsyms]', kind: 'kernel' },
	{ name: 'ksys_write', module: '[kernel.kallsyms]', kind: 'kernel' },
	{ name: 'node::Start', module: 'node', kind: 'user' },
	{ name: 'uv_run', module: 'node', kind: 'user' },
	{ name: 'handleRequest', module: '[jit]', kind: 'jit' },
	{ name: 'JSON.stringify', module: '[jit]', kind: 'jit' },
	{ name: 'gen_frame', module: 'gen', kind: 'user' },
];

/** Builds one synthetic window: burn spends 75% in hot_loop, node the rest of its share in JSON. */
export function demoWindow(host: string, startMs: number, durationMs: number, extraStacks = 0): ProfileWindow {
	const frames = [...FRAMES];
	const n = Math.max(1, Math.round(durationMs / 1000));
	const stacks: ProfileWindow['stacks'] = [
		{ pid: 4242, comm: 'burn', frameIds: [0, 1, 2], count: 75 * n },
		{ pid: 4242, comm: 'burn', frameIds: [0, 1, 3], count: 20 * n },
		{ pid: 4242, comm: 'burn', frameIds: [0, 1, 3, 4, 5, 6], count: 5 * n },
		{ pid: 1717, comm: 'node', frameIds: [7, 8, 9, 10], count: 30 * n },
		{ pid: 1717, comm: 'node', frameIds: [7, 8, 9], count: 10 * n },
	];
	for (let i = 0; i < extraStacks; i++) {
		const id = frames.push({ name: `gen_${i}`, module: 'gen', kind: 'user' }) - 1;
		stacks.push({ pid: 5000 + (i % 7), comm: 'gen', frameIds: [11, id], count: 1 });
	}
	return { host, startMs, durationMs, frequencyHz: 99, frames, stacks };
}

export function demoStats(host: string, ts: number): LiveStats {
	const wobble = Math.sin(ts / 5000);
	return {
		host,
		ts,
		frequencyHz: 99,
		processes: [
			{ pid: 4242, comm: 'burn', cmdline: './burn --threads 1', cpuPercent: 98 + wobble, samplesPerSec: 97 + wobble },
			{ pid: 1717, comm: 'node', cmdline: 'node server.js --port 8080', cpuPercent: 40 + 5 * wobble, samplesPerSec: 40 + 5 * wobble },
			{ pid: 1, comm: 'systemd', cmdline: '/sbin/init', cpuPercent: 0.1, samplesPerSec: 0 },
		],
		drops: { ringbuf_reserve: 0, stack_map_full: 0 },
	};
}

/** Streams demo data until stopped. */
export function startDemoFeed(opts: DemoFeedOptions): { stop(): void } {
	const host = opts.host ?? 'demo-host';
	const windowMs = opts.windowMs ?? 2000;
	let ws: WebSocket | undefined;
	let stopped = false;
	const url = opts.hub.replace(/^http/, 'ws').replace(/\/$/, '') + '/ingest';
	const send = (m: CollectorMessage) => {
		if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
	};
	const connect = () => {
		if (stopped) return;
		ws = new WebSocket(url, { headers: { authorization: `Bearer ${opts.token}` } });
		ws.on('open', () => send({ type: 'hello', host, version: 'demo', frequencyHz: 99 }));
		ws.on('error', () => {});
		ws.on('close', () => setTimeout(connect, 500).unref());
	};
	connect();
	let windowStart = Date.now();
	const live = setInterval(() => send({ type: 'live', stats: demoStats(host, Date.now()) }), 1000);
	const windows = setInterval(() => {
		const now = Date.now();
		send({ type: 'profile', window: demoWindow(host, windowStart, now - windowStart, opts.extraStacks) });
		windowStart = now;
	}, windowMs);
	return {
		stop() {
			stopped = true;
			clearInterval(live);
			clearInterval(windows);
			ws?.close();
		},
	};
}
