import { EventEmitter } from 'node:events';
import { PROFILE_COUNTERS, Profiler, type DrainedWindow, type ProfileCounter, type UnwindMode } from '@firesight/native';
import { ProfileBuilder, type Profile } from '@firesight/profile';
import { Symbolizer } from '@firesight/symbolize';
import type { SampleAttribution } from '../request-attribution.ts';
import { symbolizeWindow, type WireCuts } from './symbolize-window.ts';
import { ProcessUnwinding, type ProcessUnwindingOptions } from './unwind/process-unwinding.ts';

export interface ProfileSamplerOptions {
	frequency: number;
	/** Only these processes; the whole host when empty. */
	pids?: readonly number[];
	/** Length of a stored profile window. */
	windowMs: number;
	/**
	 * How often the kernel maps are drained (and `tick` emitted, and `window` when one is due).
	 * 0: never by itself; the caller drains with tick() and ends windows with closeWindow().
	 */
	tickMs?: number;
	symbolizer?: Symbolizer;
	/** How user stacks are walked (default auto: unwind tables, frame pointers where there are none). */
	unwind?: UnwindMode;
	/** Where unwind tables are cached, and how long an unused one stays loaded. */
	unwinding?: ProcessUnwindingOptions;
	/** Labels samples stamped with a request (endpoint, requestId) when their window closes. */
	attribution?: SampleAttribution;
	/**
	 * Whole host only: how long the first profile may wait for the unwind tables of every process
	 * running at start (default 30 s); 0 starts at once, walking them without tables meanwhile.
	 */
	warmUpMs?: number;
}

/** How long the first profile waits at most for the tables of the processes running at start. */
const DEFAULT_WARM_UP_MS = 30_000;

/** Samples per process during one tick. */
export interface TickStats {
	ts: number;
	elapsedMs: number;
	samplesByPid: Map<number, { comm: string; samples: number }>;
	/** Kernel-side counters since the profile started, after the warm-up (samples taken, stacks missing, map full, ...). */
	counters: Record<ProfileCounter, number>;
}

interface Events {
	tick: [TickStats];
	window: [Profile];
	error: [Error];
}

/**
 * Drives the profiler: drains the kernel maps every tick, symbolizes the stacks into the current
 * window, and emits a `window` profile every `windowMs` plus a `tick` with per-process counts.
 */
export class ProfileSampler extends EventEmitter<Events> {
	/** Frames cut to the wire limits since start (a loss counter). */
	readonly cuts: WireCuts = { frames: 0 };
	readonly symbolizer: Symbolizer;
	readonly #profiler: Profiler;
	/** The mapping tracker that feeds the walker its tables; none with `unwind: 'fp'`. */
	readonly unwinding: ProcessUnwinding | undefined;
	readonly #options: Required<Omit<ProfileSamplerOptions, 'symbolizer' | 'pids' | 'unwind' | 'unwinding' | 'attribution' | 'warmUpMs'>>;
	readonly #attribution: SampleAttribution | undefined;
	#builder: ProfileBuilder;
	#startMs = Date.now();
	#timer: NodeJS.Timeout | undefined;
	#lastTick = Date.now();
	#busy: Promise<void> = Promise.resolve();
	/** Until the tables of the processes running at start are loaded: what is sampled meanwhile is let go. */
	#warmingUp = false;
	/** Those tables are loaded: the warm-up ends at the next drain, which still holds samples from before. */
	#tablesLoaded = false;
	/** The kernel's counters when the warm-up ended: the counters reported start there. */
	#baseline: Record<ProfileCounter, number> = zeroCounters();

	constructor(options: ProfileSamplerOptions) {
		super();
		this.#options = { tickMs: 1000, ...options };
		this.symbolizer = options.symbolizer ?? new Symbolizer();
		this.#attribution = options.attribution;
		const unwind = options.unwind ?? 'auto';
		// The tables are loaded here (ProcessUnwinding): a stack walked before they are is walked again once they are.
		this.#profiler = new Profiler({ frequency: options.frequency, pids: options.pids ?? [], unwind, deferPending: unwind !== 'fp' });
		if (unwind !== 'fp') {
			const unwinding = new ProcessUnwinding(this.#profiler, options.unwinding);
			this.unwinding = unwinding;
			// A sample waits for tables still on their way, rather than for a count of drains only.
			this.#profiler.tablesComing = (pid) => unwinding.tracker.loading(pid);
			for (const pid of options.pids ?? []) this.unwinding.tracker.track(pid);
			this.unwinding.pollUnmapped(() => {
				// Samples deferred meanwhile move out of the kernel's ring as often as new processes are looked for.
				this.#profiler.takeDeferred();
				return this.#profiler.takeUnmapped();
			});
			const warmUpMs = options.warmUpMs ?? DEFAULT_WARM_UP_MS;
			if ((options.pids ?? []).length === 0 && warmUpMs > 0) this.#warmUp(this.unwinding, warmUpMs);
		}
		this.#builder = this.#newBuilder();
		if (this.#options.tickMs > 0) this.#timer = setInterval(() => void this.#tickOnce(), this.#options.tickMs);
	}

	get frequency(): number {
		return this.#profiler.frequency;
	}

	/** Whether the sampler still waits for the tables of the processes running at its start. */
	get warmingUp(): boolean {
		return this.#warmingUp;
	}

	/**
	 * As perf reads the maps of the processes running before it enables its events: until their
	 * tables are loaded (a few seconds, longer on a busy host) every stack of theirs would be
	 * walked without them, so the profile starts once they are. The samples of that time are
	 * neither in a window nor counted as lost: the first window starts after them.
	 */
	#warmUp(unwinding: ProcessUnwinding, warmUpMs: number): void {
		this.#warmingUp = true;
		unwinding.trackHost();
		let timer: NodeJS.Timeout | undefined;
		void Promise.race([unwinding.tracker.settled(), new Promise<void>((r) => (timer = setTimeout(r, warmUpMs)))]).then(() => {
			clearTimeout(timer);
			this.#tablesLoaded = true;
		});
	}

	/** Drains now, closes the current window, and stops. Returns the last (partial) window. */
	async stop(): Promise<Profile> {
		clearInterval(this.#timer);
		this.#timer = undefined;
		await this.#busy;
		await this.#tick(true);
		await this.unwinding?.close();
		this.#profiler.close();
		this.#attribution?.flush(this.#builder, true); // no later window to wait for
		return this.#closeWindow(Date.now());
	}

	/** Drains the kernel maps now into the current window (after any drain under way). */
	tick(): Promise<TickStats> {
		const next = this.#busy.then(() => this.#tick());
		this.#busy = next.then(
			() => undefined,
			() => undefined,
		);
		return next;
	}

	/** Ends the current window now and starts the next. */
	closeWindow(): Profile {
		return this.#closeWindow(Date.now());
	}

	#newBuilder(): ProfileBuilder {
		return new ProfileBuilder({ startMs: this.#startMs, durationMs: 0, frequencyHz: this.#profiler.frequency });
	}

	#tickOnce(): Promise<void> {
		this.#busy = this.#busy
			.then(() => this.#tick())
			.then(
				() => undefined,
				(err: Error) => void this.emit('error', err),
			);
		return this.#busy;
	}

	/** `last`: the sampler is stopping, so samples deferred for their tables are walked now, as they are. */
	async #tick(last = false): Promise<TickStats> {
		const warmingUp = this.#warmingUp;
		// Loaded before this drain began: every sample after it was walked with the tables in.
		const loadedBefore = this.#tablesLoaded;
		const drained = await this.#profiler.drain({ last });
		this.unwinding?.afterDrain(drained);
		const now = Date.now();
		if (warmingUp) {
			// Lets go of what was sampled during the warm-up: the first window and the counters start here.
			this.#baseline = drained.totals;
			this.#startMs = now;
			this.#lastTick = now;
			if (loadedBefore) this.#warmingUp = false;
			const stats: TickStats = { ts: now, elapsedMs: 0, samplesByPid: new Map(), counters: zeroCounters() };
			this.emit('tick', stats);
			return stats;
		}
		symbolizeWindow(drained, this.symbolizer, this.#builder, this.cuts, this.#attribution);
		const stats = tickStats(drained, now, now - this.#lastTick, this.#baseline);
		this.emit('tick', stats);
		this.#lastTick = now;
		if (this.#timer && now - this.#startMs >= this.#options.windowMs) {
			this.emit('window', this.#closeWindow(now));
		}
		return stats;
	}

	#closeWindow(now: number): Profile {
		this.#attribution?.flush(this.#builder);
		const built = this.#builder.build();
		const profile = { ...built, startMs: this.#startMs, durationMs: Math.max(1, now - this.#startMs) };
		this.#startMs = now;
		this.#builder = this.#newBuilder();
		return profile;
	}
}

function zeroCounters(): Record<ProfileCounter, number> {
	return Object.fromEntries(PROFILE_COUNTERS.map((c) => [c, 0])) as Record<ProfileCounter, number>;
}

function tickStats(drained: DrainedWindow, ts: number, elapsedMs: number, baseline: Record<ProfileCounter, number>): TickStats {
	const samplesByPid = new Map<number, { comm: string; samples: number }>();
	for (const c of drained.counts) {
		const row = samplesByPid.get(c.pid);
		if (row) row.samples += c.count;
		else samplesByPid.set(c.pid, { comm: c.comm, samples: c.count });
	}
	const counters = Object.fromEntries(PROFILE_COUNTERS.map((c) => [c, drained.totals[c] - baseline[c]])) as Record<ProfileCounter, number>;
	return { ts, elapsedMs, samplesByPid, counters };
}
