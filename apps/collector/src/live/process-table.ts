import { readdirSync } from 'node:fs';
import { limits, type ProcessRow } from '@firesight/protocol';
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
	/**
	 * Rows a scan returns at most, the busiest first; the hub refuses a live message with more
	 * (limits.processesPerSnapshot). What is cut is counted in `rowsCut`.
	 */
	maxRows?: number;
}

/**
 * Every process on the host with its CPU use over the last interval, from the kernel's own
 * accounting (/proc/PID/stat). Features fill in their own columns (samples/s, requests/s, ...).
 */
export class ProcessTable {
	readonly #procRoot: string;
	readonly #options: ProcessTableOptions;
	readonly #known = new Map<number, Known>();
	readonly #maxRows: number;
	#lastScanMs: number | undefined;
	/** Rows left out of scans past maxRows, since the table was made. */
	rowsCut = 0;

	constructor(options: ProcessTableOptions = {}) {
		this.#procRoot = options.procRoot ?? '/proc';
		this.#options = options;
		this.#maxRows = options.maxRows ?? limits.processesPerSnapshot;
	}

	/** Processes the table knows: the host's live ones as of the last scan or discovery. */
	get size(): number {
		return this.#known.size;
	}

	/**
	 * Finds new and exited processes without measuring CPU: a /proc listing, and a stat read
	 * only for pids not seen before. Cheap enough to run more often than `scan`, so features
	 * hear of a short-lived process (and snapshot its maps) soon after it starts.
	 */
	discover(now: number): void {
		const listed = new Set<number>();
		for (const name of readdirSync(this.#procRoot)) {
			const pid = Number(name);
			if (!Number.isInteger(pid) || pid <= 0) continue;
			listed.add(pid);
			const known = this.#known.get(pid);
			if (known) {
				known.seenAt = now;
				continue;
			}
			const stat = readProcStat(this.#procRoot, pid);
			if (!stat) continue;
			// Its CPU so far counts as measured: the next scan shows what it used since.
			this.#known.set(pid, {
				startTicks: stat.startTicks,
				cmdline: readCmdline(this.#procRoot, pid, stat.comm),
				cpuTicks: stat.cpuTicks,
				seenAt: now,
			});
			this.#options.onNewProcess?.(pid);
		}
		for (const pid of this.#known.keys()) {
			if (!listed.has(pid)) {
				this.#known.delete(pid);
				this.#options.onExit?.(pid);
			}
		}
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
		if (rows.length <= this.#maxRows) return rows;
		this.rowsCut += rows.length - this.#maxRows;
		return rows.sort((a, b) => b.cpuPercent - a.cpuPercent).slice(0, this.#maxRows);
	}
}
