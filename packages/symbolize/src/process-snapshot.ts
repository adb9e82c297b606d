import { readFileSync } from 'node:fs';
import { parseMaps, type Mapping } from './proc-maps.ts';
import type { PerfMap } from './perf-map.ts';

/**
 * What we remember about one process: its mappings as last read, kept after it exits so samples
 * taken before the exit can still be symbolized.
 */
export interface ProcessSnapshot {
	readonly pid: number;
	/** Start time from /proc/PID/stat (clock ticks), to tell a reused pid from the original. */
	startTime: string | undefined;
	maps: Mapping[];
	/** Raw maps text, to skip re-parsing when nothing changed. */
	mapsText: string;
	/** Date.now() of the last successful read of the maps. */
	readAt: number;
	/** The pid inside the process's own pid namespace (last NSpid entry), for its perf map name. */
	nsPid: number | undefined;
	perfMap: PerfMap | undefined;
	/** Date.now() of the last look for a perf map file that found none. */
	perfMapProbedAt: number;
	/** Date.now() of the last re-read caused by an address outside every mapping. */
	missRereadAt: number;
	/** Current wait between such re-reads (grows while they find nothing new). */
	missRereadEveryMs: number;
}

/**
 * The default budget of process snapshots kept, in bytes (see snapshotBytes). Measured on the heap:
 * a shell's snapshot is 8.6 KiB (25 mappings), sleep's 12.8 KiB (37), node's about 70 KiB (227):
 * 32 MiB holds a host of 3,000 small processes, or 450 node processes. The snapshots of processes
 * that exited are let go once their samples are named; past the budget a running process's is
 * read again when its next sample is named, so the budget is room for what runs at once.
 */
export const DEFAULT_PROCESS_SNAPSHOT_BYTES = 32 * 1024 * 1024;

/**
 * Estimated bytes of one parsed mapping besides the maps text (64-bit V8): the object with its
 * eight fields (88), its three bigints (72), the perms and dev strings (48), the path, a slice of
 * the maps text (32), and its slot in the array (8). With the text, the estimate of a shell's or
 * sleep's snapshot is 3-5% over what a heap measure finds, node's 16% over (its maps grew meanwhile).
 */
const MAPPING_BYTES = 256;
/** The snapshot object, its start time string and its mappings array's header. */
const SNAPSHOT_BYTES = 256;

/**
 * What a snapshot holds, estimated: the maps text (one byte a character: V8 keeps ASCII so, and
 * the mappings' paths are slices of it), the parsed mappings, and a perf map when the process has
 * one. Weighed again when the maps are re-read or the perf map grows.
 */
export function snapshotBytes(snap: ProcessSnapshot): number {
	return SNAPSHOT_BYTES + snap.mapsText.length + snap.maps.length * MAPPING_BYTES + (snap.perfMap?.bytes ?? 0);
}

/** Reads the start time field of /proc/PID/stat, or undefined if the process is gone. */
export function readStartTime(procRoot: string, pid: number): string | undefined {
	let stat: string;
	try {
		stat = readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
	} catch {
		return undefined;
	}
	// comm may contain spaces and parentheses: fields resume after the last ')'. starttime is field
	// 22 overall, the 20th after comm.
	const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	return rest[19];
}

export function readNsPid(procRoot: string, pid: number): number | undefined {
	try {
		const status = readFileSync(`${procRoot}/${pid}/status`, 'latin1');
		const line = /^NSpid:\s*(.*)$/m.exec(status);
		const last = line?.[1]?.trim().split(/\s+/).pop();
		return last === undefined ? undefined : Number(last);
	} catch {
		return undefined;
	}
}

/**
 * Reads /proc/PID/maps into `prev` (or a new snapshot). Returns undefined when the process is gone
 * and there is no previous snapshot; a previous snapshot is returned untouched in that case.
 */
export function readSnapshot(procRoot: string, pid: number, prev: ProcessSnapshot | undefined): ProcessSnapshot | undefined {
	const startTime = readStartTime(procRoot, pid);
	let text: string;
	try {
		text = readFileSync(`${procRoot}/${pid}/maps`, 'utf8');
	} catch {
		return prev;
	}
	// Reading maps of a process that has just exited (a zombie) gives an empty file: it is gone, and
	// an empty snapshot would turn each of its addresses into a miss, kept until the pid is forgotten.
	if (text === '') return prev;
	const now = Date.now();
	if (prev !== undefined && prev.startTime === startTime) {
		if (prev.mapsText !== text) {
			prev.maps = parseMaps(text);
			prev.mapsText = text;
		}
		prev.readAt = now;
		return prev;
	}
	return {
		pid,
		startTime,
		maps: parseMaps(text),
		mapsText: text,
		readAt: now,
		nsPid: undefined,
		perfMap: undefined,
		perfMapProbedAt: 0,
		missRereadAt: 0,
		missRereadEveryMs: 200,
	};
}
