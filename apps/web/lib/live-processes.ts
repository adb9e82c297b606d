import type { ProcessRow } from './live-messages.ts';

/**
 * A kernel thread that did nothing in the last second: no CPU in the kernel's accounting, no
 * stack sampled, no request. A host has hundreds of them (kworkers, ksoftirqd, ...); they are
 * hidden unless asked for. A kernel thread that works shows like any process.
 */
export function isIdleKernelThread(row: ProcessRow): boolean {
	return row.kernelThread === true && row.cpuPercent === 0 && row.samplesPerSec === 0 && !row.requestsPerSec;
}

/** The rows to show, and how many idle kernel threads were left out. */
export function withoutIdleKernelThreads<T extends ProcessRow>(rows: readonly T[], show: boolean): { rows: readonly T[]; hidden: number } {
	if (show) return { rows, hidden: 0 };
	const kept = rows.filter((row) => !isIdleKernelThread(row));
	return { rows: kept, hidden: rows.length - kept.length };
}
