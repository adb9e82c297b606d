import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { redactCommandLine } from '@firesight/protocol';

/** Clock ticks per second of /proc CPU times (USER_HZ); 100 on every mainstream Linux. */
export const CLOCK_TICKS = (() => {
	try {
		return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
	} catch {
		return 100;
	}
})();

export interface ProcStat {
	comm: string;
	/** utime + stime, in clock ticks. */
	cpuTicks: number;
	/** Start time after boot in clock ticks: with the pid, it names one process across pid reuse. */
	startTicks: number;
	/** PF_KTHREAD is set in the task flags: a kernel thread, with no command line of its own. */
	kernelThread: boolean;
}

/** include/linux/sched.h */
const PF_KTHREAD = 0x00200000;

/**
 * Parses /proc/PID/stat. The comm field is in parentheses and may itself hold spaces and
 * parentheses, so fields are counted from the last ')'.
 */
export function parseProcStat(text: string): ProcStat | undefined {
	const open = text.indexOf('(');
	const close = text.lastIndexOf(')');
	if (open < 0 || close < open) return undefined;
	const rest = text.slice(close + 2).split(' ');
	// rest[0] is field 3 (state): flags is field 9, utime 14, stime 15, starttime 22.
	const flags = Number(rest[6]);
	const utime = Number(rest[11]);
	const stime = Number(rest[12]);
	const start = Number(rest[19]);
	if (![flags, utime, stime, start].every(Number.isFinite)) return undefined;
	// flags exceeds 2^31 on some tasks: `&` on a JS number would see it as negative, `%` does not.
	const kernelThread = Math.floor(flags / PF_KTHREAD) % 2 === 1;
	return { comm: text.slice(open + 1, close), cpuTicks: utime + stime, startTicks: start, kernelThread };
}

/**
 * One buffer for every read: a stat line is a few hundred bytes (comm is at most 64), and the
 * table reads one per process twice a second. readFileSync would also fstat and allocate each time.
 */
const statBuffer = Buffer.alloc(4096);

export function readProcStat(procRoot: string, pid: number): ProcStat | undefined {
	let fd: number;
	try {
		fd = openSync(`${procRoot}/${pid}/stat`, 'r');
	} catch {
		return undefined; // exited
	}
	try {
		const n = readSync(fd, statBuffer, 0, statBuffer.length, 0);
		return parseProcStat(statBuffer.toString('utf8', 0, n));
	} catch {
		return undefined; // exited between open and read
	} finally {
		closeSync(fd);
	}
}

/** The command line with NULs as spaces; kernel threads have none and show [comm]. */
export function readCmdline(procRoot: string, pid: number, comm: string): string {
	try {
		const raw = readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8');
		// Credentials given on the command line (curl -H 'Authorization: …', --password=…) never leave the host.
		const text = redactCommandLine(raw.replace(/\0+$/, '').replace(/\0/g, ' '));
		return text || `[${comm}]`;
	} catch {
		return `[${comm}]`;
	}
}
