import type { Features, Frame, ProcessRow, ProfileWindow } from '@firesight/protocol';
import { openFakeIngest } from './fake-ingest.ts';
import { kernelFrame } from './profile-windows.ts';

/**
 * A collector without BPF: it speaks the ingest protocol with made-up but plausible data, so the
 * dashboard can be driven, screenshotted and measured on any machine (e2e tests, the dev hub,
 * benchmarks). The `split-60-40` process mirrors the known-answer workload (fixtures/split-60-40.c).
 */

export interface FakeProcess {
	pid: number;
	comm: string;
	cmdline: string;
	/** CPU share of one core, 0..100. */
	cpuPercent: number;
	/** Stacks root first with relative weights. */
	stacks: { frames: Frame[]; weight: number }[];
}

const user = (name: string, module: string): Frame => ({ name, module, kind: 'user' });
const kernel = kernelFrame;
const jit = (name: string): Frame => ({ name, module: '[jit]', kind: 'jit' });

export function demoProcesses(): FakeProcess[] {
	const start = [
		user('_start', 'split-60-40'),
		user('__libc_start_main', 'libc.so.6'),
		user('main', 'split-60-40'),
		user('run_rounds', 'split-60-40'),
	];
	const nodeBase = [
		user('_start', 'node'),
		user('node::Start', 'node'),
		user('uv_run', 'node'),
		user('uv__io_poll', 'node'),
		user('node::InternalCallbackScope::Close', 'node'),
		user('v8::Function::Call', 'node'),
		user('Builtins_JSEntry', 'node'),
	];
	const pgBase = [
		user('_start', 'postgres'),
		user('PostmasterMain', 'postgres'),
		user('ServerLoop', 'postgres'),
		user('BackendStartup', 'postgres'),
		user('PostgresMain', 'postgres'),
		user('exec_simple_query', 'postgres'),
	];
	return [
		{
			pid: 4242,
			comm: 'split-60-40',
			cmdline: './split-60-40',
			cpuPercent: 99.2,
			stacks: [
				{ frames: [...start, user('hot_a', 'split-60-40')], weight: 60 },
				{ frames: [...start, user('hot_b', 'split-60-40')], weight: 40 },
			],
		},
		{
			pid: 1873,
			comm: 'node',
			cmdline: 'node --enable-source-maps dist/server.js --port 8080',
			cpuPercent: 37.5,
			stacks: [
				{
					frames: [
						...nodeBase,
						jit('processTicksAndRejections'),
						jit('handleRequest /srv/app/dist/server.js:88'),
						jit('renderPage /srv/app/dist/render.js:12'),
						jit('JSON.stringify'),
					],
					weight: 22,
				},
				{
					frames: [
						...nodeBase,
						jit('processTicksAndRejections'),
						jit('handleRequest /srv/app/dist/server.js:88'),
						jit('queryUsers /srv/app/dist/db.js:41'),
						jit('parseRow /srv/app/dist/db.js:97'),
					],
					weight: 14,
				},
				{
					frames: [
						...nodeBase,
						jit('processTicksAndRejections'),
						jit('handleRequest /srv/app/dist/server.js:88'),
						jit('compress /srv/app/dist/gzip.js:5'),
						user('deflate_slow', 'libz.so.1'),
						user('longest_match', 'libz.so.1'),
					],
					weight: 11,
				},
				{
					frames: [
						user('_start', 'node'),
						user('node::Start', 'node'),
						user('uv_run', 'node'),
						user('uv__io_poll', 'node'),
						user('epoll_wait', 'libc.so.6'),
						kernel('entry_SYSCALL_64_after_hwframe'),
						kernel('do_syscall_64'),
						kernel('__x64_sys_epoll_wait'),
						kernel('do_epoll_wait'),
					],
					weight: 5,
				},
				{
					frames: [
						user('_start', 'node'),
						user('v8::internal::Heap::CollectGarbage', 'node'),
						user('v8::internal::MarkCompactCollector::CollectGarbage', 'node'),
						user('v8::internal::MarkCompactCollector::MarkLiveObjects', 'node'),
					],
					weight: 9,
				},
				{
					frames: [
						...nodeBase,
						jit('processTicksAndRejections'),
						jit('writeResponse /srv/app/dist/server.js:140'),
						user('uv_write', 'node'),
						user('write', 'libc.so.6'),
						kernel('entry_SYSCALL_64_after_hwframe'),
						kernel('do_syscall_64'),
						kernel('ksys_write'),
						kernel('sock_write_iter'),
						kernel('tcp_sendmsg'),
						kernel('tcp_sendmsg_locked'),
						kernel('tcp_push'),
					],
					weight: 7,
				},
			],
		},
		{
			pid: 912,
			comm: 'postgres',
			cmdline: 'postgres: app appdb 127.0.0.1(51514) SELECT',
			cpuPercent: 18.1,
			stacks: [
				{
					frames: [
						...pgBase,
						user('PortalRun', 'postgres'),
						user('ExecutorRun', 'postgres'),
						user('ExecSeqScan', 'postgres'),
						user('heap_getnextslot', 'postgres'),
						user('heapgettup_pagemode', 'postgres'),
					],
					weight: 16,
				},
				{
					frames: [
						...pgBase,
						user('PortalRun', 'postgres'),
						user('ExecutorRun', 'postgres'),
						user('ExecHashJoin', 'postgres'),
						user('ExecScanHashBucket', 'postgres'),
					],
					weight: 9,
				},
				{
					frames: [
						...pgBase,
						user('pg_plan_queries', 'postgres'),
						user('standard_planner', 'postgres'),
						user('subquery_planner', 'postgres'),
					],
					weight: 5,
				},
				{
					frames: [
						...pgBase,
						user('pq_getbyte', 'postgres'),
						user('secure_read', 'postgres'),
						user('recv', 'libc.so.6'),
						kernel('entry_SYSCALL_64_after_hwframe'),
						kernel('do_syscall_64'),
						kernel('__sys_recvfrom'),
						kernel('tcp_recvmsg'),
					],
					weight: 3,
				},
			],
		},
		{
			pid: 1,
			comm: 'systemd',
			cmdline: '/sbin/init',
			cpuPercent: 0.4,
			stacks: [
				{
					frames: [
						user('_start', 'systemd'),
						user('sd_event_run', 'libsystemd-shared-252.so'),
						user('epoll_wait', 'libc.so.6'),
						kernel('do_epoll_wait'),
					],
					weight: 1,
				},
			],
		},
		{
			pid: 655,
			comm: 'containerd',
			cmdline: '/usr/bin/containerd',
			cpuPercent: 2.6,
			stacks: [
				{
					frames: [
						user('runtime.goexit', 'containerd'),
						user('runtime.main', 'containerd'),
						user('runtime.schedule', 'containerd'),
						user('runtime.findRunnable', 'containerd'),
						user('runtime.netpoll', 'containerd'),
					],
					weight: 2,
				},
				{
					frames: [
						user('runtime.goexit', 'containerd'),
						user('runtime.gcBgMarkWorker', 'containerd'),
						user('runtime.gcDrain', 'containerd'),
						user('runtime.scanobject', 'containerd'),
					],
					weight: 1,
				},
			],
		},
	];
}

export interface FakeWindowOptions {
	host: string;
	startMs: number;
	durationMs: number;
	frequencyHz?: number;
	processes?: FakeProcess[];
	/** Distinct one-sample stacks added to the window, to make large flame graphs. */
	extraStacks?: number;
}

/** One profile window of the processes: each gets its CPU share of samples, split by stack weight. */
export function fakeWindow(options: FakeWindowOptions): ProfileWindow {
	const { host, startMs, durationMs } = options;
	const frequencyHz = options.frequencyHz ?? 99;
	const frames: Frame[] = [];
	const ids = new Map<string, number>();
	const intern = (frame: Frame) => {
		const key = `${frame.kind}|${frame.module}|${frame.name}`;
		let id = ids.get(key);
		if (id === undefined) {
			id = frames.length;
			frames.push(frame);
			ids.set(key, id);
		}
		return id;
	};
	const rows: ProfileWindow['samples'][number][] = [];
	for (const process of options.processes ?? demoProcesses()) {
		const samples = Math.round(((process.cpuPercent / 100) * frequencyHz * durationMs) / 1000);
		const weightSum = process.stacks.reduce((sum, stack) => sum + stack.weight, 0);
		for (const stack of process.stacks) {
			const count = Math.round((samples * stack.weight) / weightSum);
			if (count > 0) rows.push({ pid: process.pid, comm: process.comm, stack: stack.frames.map(intern), weight: count });
		}
	}
	const genBase = [intern(user('_start', 'gen')), intern(user('gen_frame', 'gen'))];
	for (let i = 0; i < (options.extraStacks ?? 0); i++) {
		rows.push({ pid: 5000 + (i % 7), comm: 'gen', stack: [...genBase, intern(user(`gen_${i}`, 'gen'))], weight: 1 });
	}
	return { host, startMs, durationMs, frequencyHz, frames, samples: rows };
}

export interface FakeCollectorOptions {
	hubUrl: string;
	token: string;
	host?: string;
	frequencyHz?: number;
	windowMs?: number;
	processes?: FakeProcess[];
	/** See FakeWindowOptions. */
	extraStacks?: number;
	/** The features its live stats report as running and off; none when absent. */
	features?: Features;
}

export interface FakeCollector {
	close(): Promise<void>;
	/** Sends one profile window covering the last `windowMs` now (tests need not wait). */
	flush(): void;
	processes: FakeProcess[];
}

/** Connects to a hub's /ingest and streams live stats every second and profile windows. */
export async function startFakeCollector(options: FakeCollectorOptions): Promise<FakeCollector> {
	const host = options.host ?? 'demo-host';
	const frequencyHz = options.frequencyHz ?? 99;
	const windowMs = options.windowMs ?? 2_000;
	const processes = options.processes ?? demoProcesses();
	const ingest = await openFakeIngest(options.hubUrl, options.token, { host, version: '0.1.0-fake', frequencyHz, protocol: 1 });
	const { send } = ingest;

	let drops = 0;
	const jitter = () => 0.9 + 0.2 * Math.random();
	const liveTick = () => {
		if (Math.random() < 0.05) drops += 1;
		const rows: ProcessRow[] = processes.map((process) => {
			const cpuPercent = Math.min(100, process.cpuPercent * jitter());
			return {
				pid: process.pid,
				comm: process.comm,
				cmdline: process.cmdline,
				cpuPercent,
				samplesPerSec: (cpuPercent / 100) * frequencyHz,
			};
		});
		send({
			type: 'live',
			stats: {
				host,
				ts: Date.now(),
				frequencyHz,
				processes: rows,
				drops: { 'tcp.ringBufferFull': 0, 'hubQueue.live': drops },
				...(options.features ? { features: options.features } : {}),
			},
		});
	};
	let windowStart = Date.now();
	const flush = () => {
		const end = Date.now();
		const window = fakeWindow({
			host,
			startMs: windowStart,
			durationMs: Math.max(1, end - windowStart),
			frequencyHz,
			processes,
			extraStacks: options.extraStacks,
		});
		send({ type: 'profile', window });
		windowStart = end;
	};
	liveTick();
	ingest.every(1_000, liveTick);
	ingest.every(windowMs, flush);
	return { processes, flush, close: ingest.close };
}
