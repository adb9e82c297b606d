import { readdirSync } from 'node:fs';
import type { ProcessRow } from '@firesight/protocol';
import { CLOCK_TICKS, readCmdline, readProcStat } from './proc-stat.ts';

interface Known {
	startTicks: number;
	cmdline: string;
	cpuTicks: number;
	/** Last scan that saw it alive. */
	seenAt: number;
}

export interface ProcessTableOptions {
	procRoot?: string;
	/** Called once for each process the table sees for the first time (e.g. to snapshot its maps). */
	onNewProcess?: (pid: number) => void;
	/** Called when a process is gone (after the table stopped showing it). */
	onExit?: (pid: number) => void;
}

/**
 * Every process on the host with its CPU use over the last interval, from the kernel's own
 * accounting (/proc/PID/stat). Features fill in their own columns (samples/s, requests/s, ...).
 */
export class ProcessTable {
	readonly #procRoot: string;
	readonly #options: ProcessTableOptions;
	readonly #known = new Map<number, Known>();
	#lastScanMs: number | undefined;

	constructor(options: ProcessTableOptions = {}) {
		this.#procRoot = options.procRoot ?? '/proc';
		this.#options = options;
	}

	/** Scans /proc and returns one row per process. */
	scan(now: number): ProcessRow[] {
		const elapsedSec = this.#lastScanMs === undefined ? 0 : (now - this.#lastScanMs) / 1000;
		this.#lastScanMs = now;
		const rows: ProcessRow[] = [];
		for (const name of readdirSync(this.#procRoot)) {
			const pid = Number(name);
			if (!Number.isInteger(pid) || pid <= 0) continue;
			const stat = readProcStat(this.#procRoot, pid);
			if (!stat) continue;
			let known = this.#known.get(pid);
			let cpuPercent = 0;
			if (known && known.startTicks === stat.startTicks) {
				if (elapsedSec > 0) cpuPercent = ((stat.cpuTicks - known.cpuTicks) / CLOCK_TICKS / elapsedSec) * 100;
				known.cpuTicks = stat.cpuTicks;
				known.seenAt = now;
			} else {
				if (known) this.#options.onExit?.(pid); // the pid was reused
				known = { startTicks: stat.startTicks, cmdline: readCmdline(this.#procRoot, pid, stat.comm), cpuTicks: stat.cpuTicks, seenAt: now };
				this.#known.set(pid, known);
				this.#options.onNewProcess?.(pid);
			}
			rows.push({
				pid,
				comm: stat.comm,
				cmdline: known.cmdline.slice(0, 4096),
				cpuPercent: Math.max(0, Math.round(cpuPercent * 10) / 10),
				samplesPerSec: 0,
				...(stat.kernelThread ? { kernelThread: true } : {}),
			});
		}
		for (const [pid, known] of this.#known) {
			if (known.seenAt !== now) {
				this.#known.delete(pid);
				this.#options.onExit?.(pid);
			}
		}
		return rows;
	}
}
