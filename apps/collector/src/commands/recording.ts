import { PROFILE_COUNTERS, Profiler, type DrainedWindow, type ProfileCounter, type StackCount, type UnwindMode } from '@firesight/native';
import { ProfileBuilder, type Profile } from '@firesight/profile';
import { Symbolizer } from '@firesight/symbolize';
import { symbolizeWindow } from '../profiling/symbolize-window.ts';
import { ProcessUnwinding, type ProcessUnwindingOptions } from '../profiling/unwind/process-unwinding.ts';

export interface RecordingOptions {
	frequency: number;
	/** Only these processes; the whole host when empty. */
	pids: readonly number[];
	/** How often the kernel maps are drained, so they never fill. */
	tickMs?: number;
	/** After each drain: the samples taken so far. */
	onTick?: (samples: number) => void;
	/** How user stacks are walked; auto by default. */
	unwind?: UnwindMode;
	unwinding?: ProcessUnwindingOptions;
}

/**
 * One (process, user stack, kernel stack) and its samples so far; a stack is an index into the
 * recording's distinct stacks, or a negative errno.
 */
interface RawStack {
	pid: number;
	comm: string;
	user: number;
	kernel: number;
	count: number;
}

/**
 * `firesight record`'s sampling: a fixed stretch of CPU stacks, symbolized once sampling has
 * ended. The collector's ProfileSampler symbolizes on every drain, on the main thread: the first
 * look at a large binary takes seconds, and while it ran the end of a recording could not be
 * noticed and the kernel kept counting (`--duration 2` gave 19.6 s and 1,016 samples, where 2 CPUs
 * at 97 Hz allow 388). Here a drain is cheap (the addon copies the maps off the main thread; the
 * stacks are summed by their addresses), so stop() runs on time and the profiler detaches at once.
 * Each process's maps are snapshotted when it is first seen, so one that exits meanwhile still
 * symbolizes.
 */
export class Recording {
	readonly #profiler: Profiler;
	readonly #symbolizer = new Symbolizer();
	readonly #stacks = new Map<string, RawStack>();
	/**
	 * Each distinct stack once, as packed addresses (8 bytes a frame, where an array of bigints
	 * takes about 32): a whole-host recording holds tens of thousands, walked deep by the tables.
	 */
	readonly #distinct: BigUint64Array[] = [];
	/** A stack's bytes (as a one-byte string) to its index in #distinct. */
	readonly #distinctIds = new Map<string, number>();
	readonly #seen = new Set<number>();
	/** When sampling began: once the profiler attached (or when warmUp() ended). */
	startMs: number;
	readonly #unwinding: ProcessUnwinding | undefined;
	readonly #pids: readonly number[];
	readonly #timer: NodeJS.Timeout;
	readonly #onTick: (samples: number) => void;
	#samples = 0;
	/** When the latest drain began: it flips the kernel's buffers, so what it reads ends there. */
	#drainedAt = 0;
	#busy: Promise<void> = Promise.resolve();
	#error: unknown;

	/** Attaches to every CPU; throws NativeError when the profiler cannot load. */
	constructor(options: RecordingOptions) {
		this.#profiler = new Profiler({ frequency: options.frequency, pids: options.pids, unwind: options.unwind ?? 'auto' });
		// Sampling starts once the programs are verified and attached: with the stack walker that
		// takes seconds on a busy host, which must not be taken out of the recording's duration.
		this.startMs = Date.now();
		this.#pids = options.pids;
		if (this.#profiler.unwind !== 'fp') {
			this.#unwinding = new ProcessUnwinding(this.#profiler, options.unwinding);
			for (const pid of options.pids) this.#unwinding.tracker.track(pid);
		}
		this.#onTick = options.onTick ?? (() => {});
		this.#timer = setInterval(() => void this.#drainInTurn(), options.tickMs ?? 1000);
	}

	/**
	 * With given processes: waits (up to `timeoutMs`) until the unwind tables of what they map are
	 * loaded, then starts the recording over, so none of its samples was walked without them.
	 * Returns whether they were all loaded in time.
	 */
	async warmUp(timeoutMs = 15_000): Promise<boolean> {
		if (this.#unwinding === undefined || this.#pids.length === 0) return true;
		let timer: NodeJS.Timeout | undefined;
		const settled = await Promise.race([
			this.#unwinding.tracker.settled().then(() => true),
			new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
		]);
		clearTimeout(timer);
		await this.#drainInTurn();
		this.#stacks.clear();
		this.#distinct.length = 0;
		this.#distinctIds.clear();
		this.#samples = 0;
		this.startMs = this.#drainedAt;
		return settled;
	}

	/** Ends sampling now, then symbolizes what was sampled. */
	async stop(): Promise<Profile> {
		clearInterval(this.#timer);
		await this.#drainInTurn();
		const endMs = this.#drainedAt;
		await this.#unwinding?.close();
		this.#profiler.close();
		if (this.#error !== undefined) throw this.#error;
		const builder = new ProfileBuilder({ startMs: this.startMs, durationMs: 0, frequencyHz: this.#profiler.frequency });
		symbolizeWindow(this.#asWindow(), this.#symbolizer, builder);
		return { ...builder.build(), startMs: this.startMs, durationMs: Math.max(1, endMs - this.startMs) };
	}

	#drainInTurn(): Promise<void> {
		this.#busy = this.#busy.then(async () => {
			if (this.#error !== undefined) return;
			try {
				this.#drainedAt = Date.now();
				this.#add(await this.#profiler.drain());
			} catch (err) {
				this.#error = err;
			}
			this.#onTick(this.#samples);
		});
		return this.#busy;
	}

	#add(drained: DrainedWindow): void {
		this.#unwinding?.afterDrain(drained);
		const stack = (id: number): number => {
			if (id < 0) return id;
			const ips = drained.stacks.get(id);
			if (ips === undefined) return -1;
			const packed = BigUint64Array.from(ips);
			const key = Buffer.from(packed.buffer).toString('latin1');
			let index = this.#distinctIds.get(key);
			if (index === undefined) {
				index = this.#distinct.push(packed) - 1;
				this.#distinctIds.set(key, index);
			}
			return index;
		};
		for (const c of drained.counts) {
			if (!this.#seen.has(c.pid)) {
				this.#seen.add(c.pid);
				this.#symbolizer.observe(c.pid);
			}
			const user = stack(c.userStackId);
			const kernel = stack(c.kernelStackId);
			const key = `${c.pid}/${c.comm}/${user}/${kernel}`;
			const row = this.#stacks.get(key);
			if (row) row.count += c.count;
			else this.#stacks.set(key, { pid: c.pid, comm: c.comm, user, kernel, count: c.count });
			this.#samples += c.count;
		}
	}

	/** The summed stacks as one drained window, with the distinct stacks' indexes as their ids. */
	#asWindow(): DrainedWindow {
		const stacks = new Map<number, bigint[]>();
		this.#distinct.forEach((packed, id) => stacks.set(id, [...packed]));
		const counts: StackCount[] = [...this.#stacks.values()].map((r) => ({
			pid: r.pid,
			comm: r.comm,
			userStackId: r.user,
			kernelStackId: r.kernel,
			count: r.count,
		}));
		// Only the stacks are symbolized; the kernel's counters are not summed here.
		const none = Object.fromEntries(PROFILE_COUNTERS.map((c) => [c, 0])) as Record<ProfileCounter, number>;
		return { counts, stacks, counters: none, replayed: 0, totals: none, unmappedPids: [], wantedFiles: [] };
	}
}
