import { readFileSync } from 'node:fs';
import { CLOCK_TICKS, parseProcStat } from '@firesight/collector/proc-stat';

/** CPU seconds (user + system) a process has used so far, or undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
	try {
		const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
		return stat && stat.cpuTicks / CLOCK_TICKS;
	} catch {
		return undefined;
	}
}

/** Resident set size now and at its peak, in MiB. */
export function rssMiB(pid: number): { rss: number; peak: number } | undefined {
	try {
		const status = readFileSync(`/proc/${pid}/status`, 'utf8');
		const kb = (field: string) => Number(new RegExp(`^${field}:\\s*(\\d+)`, 'm').exec(status)?.[1] ?? 0);
		return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
	} catch {
		return undefined;
	}
}

/** Samples a process's CPU use after a warm-up: CPU seconds per wall second, and peak RSS. */
export async function measureProcess(pid: number, warmupMs: number, measureMs: number) {
	await new Promise((r) => setTimeout(r, warmupMs));
	const c0 = cpuSeconds(pid) ?? 0;
	const t0 = performance.now();
	await new Promise((r) => setTimeout(r, measureMs));
	const c1 = cpuSeconds(pid) ?? c0;
	const t1 = performance.now();
	return { cpuPerSec: (c1 - c0) / ((t1 - t0) / 1000), rssPeakMiB: rssMiB(pid)?.peak ?? 0 };
}
