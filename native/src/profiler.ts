import { loadAddon, type RawProfiler } from './addon.ts';
import { checkBpfPrerequisites, toNativeError } from './native-error.ts';
import { decodeCounters, decodeCounts, decodeStacks, PROFILE_COUNTERS, type ProfileCounter, type StackCount } from './profile-records.ts';

export interface ProfilerOptions {
	/** Samples per second per CPU. 97 Hz avoids lockstep with timers that fire at round rates. */
	frequency?: number;
	/** Only these processes (tgids); all when empty. */
	pids?: readonly number[];
	/** Count samples of the idle task (pid 0). */
	includeIdle?: boolean;
	/** Distinct stacks one window can hold; a fuller window counts collisions. */
	stackEntries?: number;
	/** Distinct (process, stack) keys one window can hold; past it samples are counted as lost. */
	countEntries?: number;
}

export interface DrainedWindow {
	counts: StackCount[];
	/** Stack id → instruction pointers, leaf first. */
	stacks: Map<number, bigint[]>;
	/** This window's counters: `samples` equals the drained counts plus `countsMapFull`. */
	counters: Record<ProfileCounter, number>;
	/** The same counters summed since the profiler was loaded. */
	totals: Record<ProfileCounter, number>;
}

/**
 * The perf_event stack sampler on every online CPU. Each drain() returns the samples taken since
 * the previous one: the kernel maps are double-buffered so none is lost or counted twice.
 */
export class Profiler {
	readonly frequency: number;
	#raw: RawProfiler | undefined;
	#draining: Promise<DrainedWindow> | undefined;
	#totals = Object.fromEntries(PROFILE_COUNTERS.map((c) => [c, 0])) as Record<ProfileCounter, number>;

	constructor(options: ProfilerOptions = {}) {
		this.frequency = options.frequency ?? 97;
		if (!Number.isInteger(this.frequency) || this.frequency < 1 || this.frequency > 10_000) {
			throw new RangeError(`frequency must be a whole number of Hz from 1 to 10000, got ${this.frequency}`);
		}
		checkBpfPrerequisites();
		try {
			this.#raw = new (loadAddon().Profiler)({
				frequency: this.frequency,
				includeIdle: options.includeIdle ?? false,
				pids: [...(options.pids ?? [])],
				stackEntries: options.stackEntries ?? 16_384,
				countEntries: options.countEntries ?? 16_384,
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

	/** Detaches from every CPU and frees the maps. Safe to call twice. */
	close(): void {
		this.#raw?.close();
		this.#raw = undefined;
	}
}
