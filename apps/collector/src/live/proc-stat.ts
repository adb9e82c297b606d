import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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
}

/**
 * Parses /proc/PID/stat. The comm field is in parentheses and may itself hold spaces and
 * parentheses, so fields are counted from the last ')'.
 */
export function parseProcStat(text: string): ProcStat | undefined {
	const open = text.indexOf('(');
	const close = text.lastIndexOf(')');
	if (open < 0 || close < open) return undefined;
	const rest = text.slice(close + 2).split(' ');
	// rest[0] is field 3 (state): utime is field 14, stime 15, starttime 22.
	const utime = Number(rest[11]);
	const stime = Number(rest[12]);
	const start = Number(rest[19]);
	if (![utime, stime, start].every(Number.isFinite)) return undefined;
	return { comm: text.slice(open + 1, close), cpuTicks: utime + stime, startTicks: start };
}

export function readProcStat(procRoot: string, pid: number): ProcStat | undefined {
	try {
		return parseProcStat(readFileSync(`${procRoot}/${pid}/stat`, 'utf8'));
	} catch {
		return undefined; // exited
	}
}

/** The command line with NULs as spaces; kernel threads have none and show [comm]. */
export function readCmdline(procRoot: string, pid: number, comm: string): string {
	try {
		const raw = readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8');
		const text = raw.replace(/\0+$/, '').replace(/\0/g, ' ');
		return text || `[${comm}]`;
	} catch {
		return `[${comm}]`;
	}
}
