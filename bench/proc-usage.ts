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

/** Where a process's resident memory is, in MiB; the parts add up to `rss`. */
export interface MemoryBreakdown {
	rss: number;
	/** glibc's main arena (the brk heap): what the main thread mallocs, ArrayBuffers under 128 KiB and SQLite's cache included. */
	mallocMain: number;
	/** glibc's other arenas: what other threads malloc (the addon's workers, libuv's pool, worker threads). */
	mallocArenas: number;
	/** Other anonymous memory: V8's heaps, blocks malloc maps on their own (128 KiB and up), thread stacks. */
	otherAnon: number;
	/** BPF maps mapped into the process (ring buffers). */
	bpfMaps: number;
	/** Files: node, shared libraries, the addon. */
	file: number;
}

/** glibc reserves each heap of a thread arena as 64 MiB, aligned to 64 MiB, and grows it in place. */
const ARENA_HEAP_BYTES = 64 * 1024 * 1024;

/**
 * Splits a process's RSS by mapping, from /proc/PID/smaps. A thread arena's heap is found by its
 * shape: read-write anonymous memory starting at a 64 MiB boundary with the rest of the 64 MiB
 * reserved behind it, not accessible.
 */
export function memoryBreakdown(pid: number): MemoryBreakdown | undefined {
	try {
		return smapsBreakdown(readFileSync(`/proc/${pid}/smaps`, 'utf8'));
	} catch {
		return undefined;
	}
}

/** memoryBreakdown of an smaps text. */
export function smapsBreakdown(text: string): MemoryBreakdown {
	const maps: { start: number; end: number; perms: string; name: string; rssKiB: number }[] = [];
	for (const line of text.split('\n')) {
		const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
		if (head) {
			maps.push({ start: parseInt(head[1]!, 16), end: parseInt(head[2]!, 16), perms: head[3]!, name: head[4]!.trim(), rssKiB: 0 });
			continue;
		}
		const rss = /^Rss:\s+(\d+) kB/.exec(line);
		if (rss && maps.length) maps[maps.length - 1]!.rssKiB = Number(rss[1]);
	}
	const kib = { mallocMain: 0, mallocArenas: 0, otherAnon: 0, bpfMaps: 0, file: 0 };
	maps.forEach((m, i) => {
		const next = maps[i + 1];
		if (m.name === '[heap]') kib.mallocMain += m.rssKiB;
		else if (m.name.includes('bpf-map')) kib.bpfMaps += m.rssKiB;
		else if (m.name.startsWith('/')) kib.file += m.rssKiB;
		else if (
			m.name === '' &&
			m.perms === 'rw-p' &&
			m.start % ARENA_HEAP_BYTES === 0 &&
			(m.end - m.start === ARENA_HEAP_BYTES ||
				(next !== undefined && next.name === '' && next.perms === '---p' && next.start === m.end && next.end >= m.start + ARENA_HEAP_BYTES))
		)
			kib.mallocArenas += m.rssKiB;
		else kib.otherAnon += m.rssKiB;
	});
	const mib = (v: number) => v / 1024;
	return {
		rss: mib(kib.mallocMain + kib.mallocArenas + kib.otherAnon + kib.bpfMaps + kib.file),
		mallocMain: mib(kib.mallocMain),
		mallocArenas: mib(kib.mallocArenas),
		otherAnon: mib(kib.otherAnon),
		bpfMaps: mib(kib.bpfMaps),
		file: mib(kib.file),
	};
}
