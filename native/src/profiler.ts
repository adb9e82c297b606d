import { loadAddon, type RawProfiler } from './addon.ts';
import { checkBpfPrerequisites, NativeError, toNativeError } from './native-error.ts';
import {
	decodeCounters,
	decodeCounts,
	decodeUnmapped,
	decodeStacks,
	PROFILE_COUNTERS,
	type ProfileCounter,
	type StackCount,
} from './profile-records.ts';
import { checkUnwindTable, encodeMappings, type UnwindMapping } from './unwind-records.ts';

export type { UnwindMapping, UnwindMappingKind } from './unwind-records.ts';

/** How user stacks are walked: frame pointers only, unwind tables only, or tables with frame pointers where there is none. */
export type UnwindMode = 'fp' | 'dwarf' | 'auto';
const UNWIND_MODES: readonly UnwindMode[] = ['fp', 'dwarf', 'auto'];

const ENOSPC = 28;

export interface ProfilerOptions {
	/** Samples per second per CPU. 97 Hz avoids lockstep with timers that fire at round rates. */
	frequency?: number;
	/** Only these processes (tgids); all when empty. */
	pids?: readonly number[];
	/** Count samples of the idle task (pid 0). */
	includeIdle?: boolean;
	/**
	 * Distinct stacks one window can hold. Past it the 'fp' mode counts stackCollisions, the
	 * others (whose stacks are stored by hash) unwindStacksFull.
	 */
	stackEntries?: number;
	/** Distinct (process, stack) keys one window can hold; past it samples are counted as lost. */
	countEntries?: number;
	/**
	 * 'fp' walks user stacks with frame pointers (bpf_get_stackid) only. 'dwarf' and 'auto' walk
	 * with the loaded unwind tables, and with frame pointers in mappings of kind 'fp' or 'jit';
	 * where no table covers a pc, 'auto' goes on with frame pointers and 'dwarf' stops and counts.
	 */
	unwind?: UnwindMode;
	/** Unwind table rows all loaded tables share (8 bytes each in kernel memory). */
	unwindRows?: number;
	/** Processes whose mappings the walker can hold (8 KiB of kernel memory each, allocated when set). */
	unwindProcesses?: number;
}

export interface DrainedWindow {
	counts: StackCount[];
	/** Stack id → instruction pointers, leaf first. */
	stacks: Map<number, bigint[]>;
	/** This window's counters: `samples` equals the drained counts plus `countsMapFull`. */
	counters: Record<ProfileCounter, number>;
	/** The same counters summed since the profiler was loaded. */
	totals: Record<ProfileCounter, number>;
	/**
	 * Processes whose samples in this window hit a user address in none of their known mappings
	 * (a new process, or a new mmap): their mappings need a rescan.
	 */
	unmappedPids: number[];
	/** Files of tables loaded only once wanted (pending mappings with a file id) this window's samples landed in. */
	wantedFiles: number[];
}

/**
 * Default unwind budget: 16 MiB of rows. A host running node, python and a chromium maps about
 * 1.3 million rows of tables; past the budget a file is walked with frame pointers, and where its
 * code keeps none the stack ends there (unwindFramePointerLost).
 */
export const DEFAULT_UNWIND_ROWS = 1 << 21;
/** Processes a pid filter holds: the pids map of bpf/pids.bpf.h. */
export const MAX_PIDS = 1024;
export const DEFAULT_UNWIND_PROCESSES = 4096;

/**
 * The perf_event stack sampler on every online CPU. Each drain() returns the samples taken since
 * the previous one: the kernel maps are double-buffered so none is lost or counted twice.
 */
export class Profiler {
	readonly frequency: number;
	readonly unwind: UnwindMode;
	#raw: RawProfiler | undefined;
	#draining: Promise<DrainedWindow> | undefined;
	#totals = Object.fromEntries(PROFILE_COUNTERS.map((c) => [c, 0])) as Record<ProfileCounter, number>;

	constructor(options: ProfilerOptions = {}) {
		this.frequency = options.frequency ?? 97;
		if (!Number.isInteger(this.frequency) || this.frequency < 1 || this.frequency > 10_000) {
			throw new RangeError(`frequency must be a whole number of Hz from 1 to 10000, got ${this.frequency}`);
		}
		this.unwind = options.unwind ?? 'auto';
		if (!UNWIND_MODES.includes(this.unwind)) throw new RangeError(`unwind must be fp, dwarf or auto, got ${String(this.unwind)}`);
		const unwindRows = options.unwindRows ?? DEFAULT_UNWIND_ROWS;
		const unwindProcesses = options.unwindProcesses ?? DEFAULT_UNWIND_PROCESSES;
		for (const [name, v] of [
			['unwindRows', unwindRows],
			['unwindProcesses', unwindProcesses],
		] as const) {
			if (!Number.isInteger(v) || v < 1 || v > 0x1000_0000) throw new RangeError(`${name} must be a whole number from 1 to 2^28, got ${v}`);
		}
		if ((options.pids?.length ?? 0) > MAX_PIDS)
			throw new RangeError(`at most ${MAX_PIDS} processes can be profiled by pid, got ${options.pids!.length}`);
		checkBpfPrerequisites();
		try {
			this.#raw = new (loadAddon().Profiler)({
				frequency: this.frequency,
				includeIdle: options.includeIdle ?? false,
				pids: [...(options.pids ?? [])],
				stackEntries: options.stackEntries ?? 16_384,
				countEntries: options.countEntries ?? 16_384,
				unwindMode: this.unwind,
				unwindRows,
				unwindProcesses,
			});
		} catch (err) {
			throw toNativeError(err);
		}
	}

	/** The samples since the last drain. Concurrent calls share one drain. */
	drain(): Promise<DrainedWindow> {
		const raw = this.#raw;
		if (!raw) return Promise.reject(new Error('profiler is closed'));
		this.#draining ??= raw
			.drain()
			.then(
				(batch) => {
					const counters = decodeCounters(batch.counters);
					for (const c of PROFILE_COUNTERS) this.#totals[c] += counters[c];
					return {
						counts: decodeCounts(batch.counts),
						stacks: decodeStacks(batch.stacks),
						counters,
						totals: { ...this.#totals },
						...decodeUnmapped(batch.unmapped),
					};
				},
				(err: unknown) => {
					throw toNativeError(err);
				},
			)
			.finally(() => {
				this.#draining = undefined;
			});
		return this.#draining;
	}

	/**
	 * Loads (or replaces) the unwind table of one file: `table` is packages/unwind's serialized
	 * UnwindTable. Throws a NativeError with op 'unwind-full' when its rows or rules do not fit.
	 */
	loadUnwindTable(fileId: number, table: Uint8Array): void {
		const raw = this.#open();
		checkFileId(fileId);
		const { rows } = checkUnwindTable(table);
		let ok: boolean;
		try {
			ok = raw.loadUnwindTable(fileId, table);
		} catch (err) {
			throw toNativeError(err);
		}
		if (!ok)
			throw new NativeError('unwind-full', ENOSPC, `unwind table ${fileId} (${rows} rows) does not fit the unwind maps (unwindRows)`);
	}

	/** Frees a file's table; its mappings then walk as if it had none. */
	unloadUnwindTable(fileId: number): void {
		checkFileId(fileId);
		try {
			this.#open().unloadUnwindTable(fileId);
		} catch (err) {
			throw toNativeError(err);
		}
	}

	/**
	 * Replaces the executable mappings the walker knows for a process (any order). Throws a
	 * NativeError with op 'unwind-full' when the processes map is full.
	 */
	setProcessMappings(pid: number, mappings: readonly UnwindMapping[]): void {
		checkPid(pid);
		const { bytes, truncated } = encodeMappings(mappings);
		let ok: boolean;
		try {
			ok = this.#open().setProcessMappings(pid, bytes, truncated);
		} catch (err) {
			throw toNativeError(err);
		}
		if (!ok) throw new NativeError('unwind-full', ENOSPC, `no room for the mappings of process ${pid} (unwindProcesses)`);
	}

	/**
	 * The processes whose samples met unknown user addresses since the last drain or call (new
	 * processes, new mmaps), and the wanted tables' files, taken now: a drain reports the rest.
	 */
	takeUnmapped(): Pick<DrainedWindow, 'unmappedPids' | 'wantedFiles'> {
		try {
			return decodeUnmapped(this.#open().takeUnmapped());
		} catch (err) {
			throw toNativeError(err);
		}
	}

	/** Forgets a process's mappings (it exited). */
	removeProcess(pid: number): void {
		checkPid(pid);
		try {
			this.#open().removeProcess(pid);
		} catch (err) {
			throw toNativeError(err);
		}
	}

	#open(): RawProfiler {
		if (!this.#raw) throw new Error('profiler is closed');
		return this.#raw;
	}

	/** Detaches from every CPU and frees the maps. Safe to call twice. */
	close(): void {
		this.#raw?.close();
		this.#raw = undefined;
	}
}

function checkFileId(fileId: number): void {
	if (!Number.isInteger(fileId) || fileId < 0 || fileId > 0xffff_ffff) throw new RangeError(`unwind file id ${fileId} is not a u32`);
}

function checkPid(pid: number): void {
	if (!Number.isInteger(pid) || pid < 1 || pid > 0x3fff_ffff) throw new RangeError(`pid ${pid} is not a process id`);
}
