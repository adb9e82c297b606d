import { existsSync } from 'node:fs';
import { loadAddon, type RawProfiler } from './addon.ts';
import { checkBpfPrerequisites, NativeError, toNativeError } from './native-error.ts';
import {
	decodeCounters,
	decodeCounts,
	decodeDeferred,
	decodeUnmapped,
	decodeStacks,
	PROFILE_COUNTERS,
	type DeferredSample,
	type ProfileCounter,
	type StackCount,
} from './profile-records.ts';
import { checkUnwindTable, encodeMappings, type UnwindMapping } from './unwind-records.ts';

export type { UnwindMapping, UnwindMappingKind } from './unwind-records.ts';

/** How user stacks are walked: frame pointers only, unwind tables only, or tables with frame pointers where there is none. */
export const UNWIND_MODES = ['fp', 'dwarf', 'auto'] as const;
export type UnwindMode = (typeof UNWIND_MODES)[number];

const ENOSPC = 28;
const EFAULT = 14;

/**
 * Deferred samples held for their tables at most, in count and in bytes (a record is 1 KiB and
 * the stack it read, up to 64 KiB: a new process's main thread is a few KiB deep): past either,
 * the newest are walked at once, as without deferral, and counted (unwindDeferQueueFull). A busy
 * new process at 499 Hz defers a few hundred samples while its table is built on a busy host.
 */
export const MAX_DEFERRED_HELD = 4096;
export const MAX_DEFERRED_HELD_BYTES = 16 << 20;
/**
 * Drains a deferred sample waits for its tables at most: a new process is described within tens
 * of milliseconds and most tables are built within a drain or two. On its last try it is walked
 * as it would have been at the sample, and counted where it ends (unwindTablePending).
 */
export const DEFERRED_TRIES = 8;
/**
 * Drains a deferred sample waits at most while its process's tables are still on their way
 * (`tablesComing`): on a busy host, at start, building node's table alone can take longer than
 * DEFERRED_TRIES drains.
 */
export const DEFERRED_MAX_TRIES = 120;
/** A deferred sample the collector holds, and the drains it has waited for its tables. */
interface HeldSample {
	sample: DeferredSample;
	tries: number;
}

/** Stack ids of replayed samples: below the hashed stacks' (UNWIND_STACK_ID_BIT), above the stack-trace map's. */
const REPLAYED_STACK_ID_BASE = 0x2000_0000;

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
	/**
	 * 'dwarf' and 'auto': a sample whose walk would end for want of a table not loaded yet (its
	 * process not described yet, a table being built) is copied (registers and up to 64 KiB of
	 * user stack) and walked again at later drains, once the caller has loaded the tables (as a
	 * ProcessUnwinding does): it is delivered then, whole. Off, it is walked at once and cut
	 * there (unwindTablePending).
	 */
	deferPending?: boolean;
}

export interface DrainedWindow {
	counts: StackCount[];
	/** Stack id → instruction pointers, leaf first. */
	stacks: Map<number, bigint[]>;
	/**
	 * This window's counters: `samples` equals the drained counts plus `countsMapFull`, less the
	 * samples deferred (`unwindDeferred`) that are not among the counts yet: those of earlier
	 * windows walked again now are counted here, as one count each.
	 */
	counters: Record<ProfileCounter, number>;
	/** Samples deferred in earlier windows, walked now and among this window's counts (one count each). */
	replayed: number;
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
	/** Samples whose walk would have ended pending, oldest first, with the drains they have waited. */
	#held: HeldSample[] = [];
	#heldBytes = 0;
	/** Deferred samples walked, for the next drain's counts. */
	#walked: { sample: DeferredSample; user: ArrayBuffer; execed: boolean }[] = [];
	/** Deferred samples walked at once for want of room since the last drain (unwindDeferQueueFull). */
	#queueFull = 0;
	/**
	 * Whether the tables of a process are still being read, built or loaded (as a ProcessUnwinding
	 * knows): its deferred samples then wait past DEFERRED_TRIES drains, up to DEFERRED_MAX_TRIES.
	 */
	tablesComing: (pid: number) => boolean = () => false;

	constructor(options: ProfilerOptions = {}) {
		this.frequency = options.frequency ?? 97;
		if (!Number.isInteger(this.frequency) || this.frequency < 1 || this.frequency > 10_000) {
			throw new RangeError(`frequency must be a whole number of Hz from 1 to 10000, got ${this.frequency}`);
		}
		this.unwind = options.unwind ?? 'auto';
		if (!(UNWIND_MODES as readonly string[]).includes(this.unwind))
			throw new RangeError(`unwind must be fp, dwarf or auto, got ${String(this.unwind)}`);
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
				deferPending: options.deferPending ?? false,
			});
		} catch (err) {
			throw toNativeError(err);
		}
	}

	/**
	 * The samples since the last drain. Concurrent calls share one drain. `last`: the profiler is
	 * about to close, so deferred samples get their last try now (walked as they are), not lost.
	 */
	drain(options: { last?: boolean } = {}): Promise<DrainedWindow> {
		const raw = this.#raw;
		if (!raw) return Promise.reject(new Error('profiler is closed'));
		this.#draining ??= raw
			.drain()
			.then(
				(batch) => {
					const counters = decodeCounters(batch.counters);
					const counts = decodeCounts(batch.counts);
					const stacks = decodeStacks(batch.stacks);
					this.#hold(raw, decodeDeferred(batch.deferred));
					const replayed = this.#replay(raw, counts, stacks, options.last === true);
					counters.unwindDeferQueueFull += this.#queueFull;
					this.#queueFull = 0;
					for (const c of PROFILE_COUNTERS) this.#totals[c] += counters[c];
					return { counts, stacks, counters, replayed, totals: { ...this.#totals }, ...decodeUnmapped(batch.unmapped) };
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
	 * Holds newly deferred samples up to the bound. One that finds no room is walked at once, as
	 * it would have been without deferral (cut where its tables are missing, and counted there),
	 * and counted as unwindDeferQueueFull.
	 */
	#hold(raw: RawProfiler, samples: DeferredSample[]): void {
		for (const sample of samples) {
			if (this.#held.length < MAX_DEFERRED_HELD && this.#heldBytes + sample.record.byteLength <= MAX_DEFERRED_HELD_BYTES) {
				this.#held.push({ sample, tries: 0 });
				this.#heldBytes += sample.record.byteLength;
				continue;
			}
			this.#queueFull++;
			this.#walked.push({ sample, ...raw.replayDeferred(sample.record, true, false)! });
		}
	}

	/**
	 * Walks the held samples again, with the tables loaded by now: those whose walk no longer
	 * ends pending (or that ran out of tries) join this drain's counts, each under a stack id of
	 * its own, with those walked at once for want of room; the rest wait for the next drain.
	 * Their ends are counted in the kernel's counters, in the window being sampled now.
	 */
	#replay(raw: RawProfiler, counts: StackCount[], stacks: Map<number, bigint[]>, last: boolean): number {
		const waiting: HeldSample[] = [];
		const gone = new Map<number, boolean>();
		for (const held of this.#held) {
			held.tries++;
			const lastTry = last || held.tries >= DEFERRED_MAX_TRIES || (held.tries >= DEFERRED_TRIES && !this.tablesComing(held.sample.pid));
			// A process gone by its last try was never to be described (most often it exited before
			// its maps could be read): its samples end as unwindProcessExited, not as the walker's miss.
			const { pid } = held.sample;
			let exited = false;
			if (lastTry) {
				exited = gone.get(pid) ?? !existsSync(`/proc/${pid}`);
				gone.set(pid, exited);
			}
			// One exec'd since is walked at once, whatever its tries: its tables are gone for good.
			const walked = raw.replayDeferred(held.sample.record, lastTry, exited);
			if (walked) {
				this.#walked.push({ sample: held.sample, ...walked });
				this.#heldBytes -= held.sample.record.byteLength;
			} else waiting.push(held);
		}
		this.#held = waiting;
		let id = REPLAYED_STACK_ID_BASE;
		for (const { sample, user, execed } of this.#walked) {
			const { pid, comm, kernelIps, requestId, requestAmbiguous } = sample;
			const userStackId = id++;
			stacks.set(userStackId, [...new BigUint64Array(user)]);
			let kernelStackId = -EFAULT; // taken in user mode: no kernel stack
			if (kernelIps.length) {
				kernelStackId = id++;
				stacks.set(kernelStackId, kernelIps);
			}
			counts.push({
				pid,
				userStackId,
				kernelStackId,
				comm,
				count: 1,
				...(requestId !== undefined ? { requestId } : {}),
				...(requestAmbiguous ? { requestAmbiguous } : {}),
				...(execed ? { execed: true as const } : {}),
			});
		}
		const replayed = this.#walked.length;
		this.#walked = [];
		return replayed;
	}

	/**
	 * Takes the samples deferred since the last drain or call out of the kernel's ring, to hold
	 * them until their tables are in: called between drains (as a ProcessUnwinding polls for new
	 * processes), so the ring holds what a few tens of milliseconds defer, not a whole drain's.
	 * Nothing while a drain runs (it takes them itself).
	 */
	takeDeferred(): void {
		const raw = this.#open();
		let batch: ArrayBuffer;
		try {
			batch = raw.takeDeferred();
		} catch (err) {
			throw toNativeError(err);
		}
		this.#hold(raw, decodeDeferred(batch));
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
