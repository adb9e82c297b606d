/**
 * Profile windows of a busy 2-CPU host, for the flame-scale benchmark: what the collector sends
 * at 99 Hz when both CPUs are nearly saturated by node servers, a browser, a TLS proxy, curl
 * clients and the kernel work they cause. Deterministic (seeded), so runs compare.
 *
 * Each process runs a "program": a fixed call graph of a few thousand functions whose callees
 * are picked with a skewed (Zipf-like) preference, so a few paths are hot and a long tail is not;
 * a sample is a walk down it, sometimes ending in a system call's kernel path. JIT processes get
 * `LazyCompile:*` frames and `[anon]+0x…` leaves as V8 without perf maps shows them. The result
 * has the shape the issue measured: ~150k samples and hundreds of thousands of tree nodes in
 * 15 minutes, most of them far narrower than a pixel.
 */
import type { Frame, ProfileWindow } from '@firesight/protocol';

/** mulberry32: small, fast and good enough to shape test data. */
function rng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

interface Program {
	comm: string;
	pids: number[];
	/** Share of the host's samples. */
	share: number;
	frames: Frame[];
	entry: number[];
	callees: number[][];
	/** Chance a walk stops at each step, and that its leaf is a system call. */
	stop: number;
	syscall: number;
}

const KERNEL_PATHS: string[][] = [
	[
		'entry_SYSCALL_64_after_hwframe',
		'do_syscall_64',
		'__x64_sys_write',
		'ksys_write',
		'vfs_write',
		'sock_write_iter',
		'tcp_sendmsg',
		'tcp_sendmsg_locked',
		'tcp_push',
		'__tcp_transmit_skb',
		'ip_queue_xmit',
		'__dev_queue_xmit',
		'loopback_xmit',
	],
	[
		'entry_SYSCALL_64_after_hwframe',
		'do_syscall_64',
		'__x64_sys_read',
		'ksys_read',
		'vfs_read',
		'sock_read_iter',
		'tcp_recvmsg',
		'tcp_recvmsg_locked',
		'skb_copy_datagram_iter',
		'__skb_datagram_iter',
		'copy_user_enhanced_fast_string',
	],
	[
		'asm_exc_page_fault',
		'exc_page_fault',
		'do_user_addr_fault',
		'handle_mm_fault',
		'__handle_mm_fault',
		'do_anonymous_page',
		'alloc_pages_mpol',
		'__alloc_pages',
		'get_page_from_freelist',
		'clear_page_erms',
	],
	[
		'entry_SYSCALL_64_after_hwframe',
		'do_syscall_64',
		'__x64_sys_epoll_wait',
		'do_epoll_wait',
		'ep_poll',
		'schedule_hrtimeout_range',
		'schedule',
		'__schedule',
		'finish_task_switch.isra.0',
	],
	[
		'entry_SYSCALL_64_after_hwframe',
		'do_syscall_64',
		'__x64_sys_futex',
		'do_futex',
		'futex_wake',
		'wake_up_q',
		'try_to_wake_up',
		'_raw_spin_unlock_irqrestore',
	],
	[
		'entry_SYSCALL_64_after_hwframe',
		'do_syscall_64',
		'__x64_sys_mmap',
		'ksys_mmap_pgoff',
		'vm_mmap_pgoff',
		'do_mmap',
		'mmap_region',
		'clear_page_erms',
	],
	[
		'asm_sysvec_apic_timer_interrupt',
		'sysvec_apic_timer_interrupt',
		'__sysvec_apic_timer_interrupt',
		'hrtimer_interrupt',
		'__hrtimer_run_queues',
		'tick_nohz_highres_handler',
		'update_process_times',
		'scheduler_tick',
		'task_tick_fair',
	],
];

function program(seed: number, comm: string, pids: number[], share: number, size: number, style: 'jit' | 'native'): Program {
	const random = rng(seed);
	const frames: Frame[] = [];
	const module = style === 'jit' ? comm : `/usr/lib/${comm}/${comm}`;
	for (let i = 0; i < size; i++) {
		if (style === 'jit' && i % 3 !== 0) {
			frames.push({
				name: `LazyCompile:*${comm}_fn_${i} /srv/${comm}/lib/mod_${i % 97}.js:${(i * 37) % 900}`,
				module: '[jit]',
				kind: 'jit',
			});
		} else {
			frames.push({
				name: `${comm}::${['net', 'io', 'http', 'tls', 'gc', 'render', 'util', 'json'][i % 8]}::fn_${i}`,
				module,
				kind: 'user',
			});
		}
	}
	const callees: number[][] = [];
	for (let i = 0; i < size; i++) {
		const n = 2 + Math.floor(random() * 7);
		const list: number[] = [];
		// Callees lie "below" the caller, so walks go deeper rather than around in circles.
		for (let k = 0; k < n; k++) list.push(Math.min(size - 1, i + 1 + Math.floor(random() ** 2 * Math.max(1, size - i - 1))));
		callees.push(list);
	}
	const entry = [0, 1, 2];
	return { comm, pids, share, frames, entry, callees, stop: style === 'jit' ? 0.06 : 0.09, syscall: style === 'jit' ? 0.35 : 0.45 };
}

export interface BusyHost {
	/** The window starting at `startMs`, `index` windows after the first (seeds its samples). */
	window(host: string, startMs: number, durationMs: number, index: number): ProfileWindow;
}

/** About 165 samples/s: two CPUs at 99 Hz, 83% busy. */
export const BUSY_SAMPLES_PER_SECOND = 165;

export function busyHost(seed = 12): BusyHost {
	const programs = [
		program(seed + 1, 'node', [4101, 4102, 4103], 0.42, 4000, 'jit'),
		program(seed + 2, 'chromium', [5201, 5202, 5203, 5204], 0.2, 3000, 'native'),
		program(seed + 3, 'nginx', [6001, 6002], 0.12, 1200, 'native'),
		program(seed + 4, 'openssl', [6101], 0.08, 800, 'native'),
		program(seed + 5, 'curl', [7001, 7002, 7003, 7004, 7005, 7006], 0.08, 600, 'native'),
		program(seed + 6, 'postgres', [8001, 8002], 0.07, 1500, 'native'),
		program(seed + 7, 'kworker/0:1', [21], 0.03, 60, 'native'),
	];
	const kernelFrame = (name: string): Frame => ({ name, module: '[kernel.kallsyms]', kind: 'kernel' });
	return {
		window(host, startMs, durationMs, index) {
			const random = rng(seed * 7919 + index);
			const frames: Frame[] = [];
			const ids = new Map<string, number>();
			const intern = (frame: Frame) => {
				const key = `${frame.kind}|${frame.module}|${frame.name}`;
				let id = ids.get(key);
				if (id === undefined) {
					id = frames.push(frame) - 1;
					ids.set(key, id);
				}
				return id;
			};
			const rows = new Map<string, { pid: number; comm: string; stack: number[]; weight: number }>();
			const total = Math.round((BUSY_SAMPLES_PER_SECOND * durationMs) / 1000);
			for (let s = 0; s < total; s++) {
				let pick = random();
				let p = programs[programs.length - 1]!;
				for (const candidate of programs) {
					if (pick < candidate.share) {
						p = candidate;
						break;
					}
					pick -= candidate.share;
				}
				const pid = p.pids[Math.floor(random() * p.pids.length)]!;
				const stack: number[] = [];
				let fn = p.entry[Math.floor(random() * p.entry.length)]!;
				for (let depth = 0; depth < 90; depth++) {
					stack.push(intern(p.frames[fn]!));
					const next = p.callees[fn]!;
					if (random() < p.stop || next.length === 0) break;
					// The first callee is the hot one; the rest share the remainder.
					fn = random() < 0.7 ? next[0]! : next[1 + Math.floor(random() * (next.length - 1))]!;
				}
				if (p.frames[fn]!.kind === 'jit' && random() < 0.25) {
					stack.push(
						intern({ name: `[anon]+0x${(0x3a00 + Math.floor(random() * 4096) * 16).toString(16)}`, module: '[anon]', kind: 'jit' }),
					);
				}
				if (random() < p.syscall) {
					const path = KERNEL_PATHS[Math.floor(random() ** 1.5 * KERNEL_PATHS.length)]!;
					const cut = 3 + Math.floor(random() * (path.length - 2));
					for (const name of path.slice(0, cut)) stack.push(intern(kernelFrame(name)));
				}
				const key = `${pid}|${stack.join(',')}`;
				const row = rows.get(key);
				if (row) row.weight += 1;
				else rows.set(key, { pid, comm: p.comm, stack, weight: 1 });
			}
			return { host, startMs, durationMs, frequencyHz: 99, frames, samples: [...rows.values()] };
		},
	};
}
