import { EventEmitter } from 'node:events';
import { Profiler, type DrainedWindow, type ProfileCounter, type UnwindMode } from '@firesight/native';
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
}

/** Samples per process during one tick. */
export interface TickStats {
	ts: number;
	elapsedMs: number;
	samplesByPid: Map<number, { comm: string; samples: number }>;
	/** Kernel-side counters since start (samples taken, stacks missing, map full, ...). */
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
	readonly #options: Required<Omit<ProfileSamplerOptions, 'symbolizer' | 'pids' | 'unwind' | 'unwinding' | 'attribution'>>;
	readonly #attribution: SampleAttribution | undefined;
	#builder: ProfileBuilder;
	#startMs = Date.now();
	#timer: NodeJS.Timeout | undefined;
	#lastTick = Date.now();
	#busy: Promise<void> = Promise.resolve();

	constructor(options: ProfileSamplerOptions) {
		super();
		this.#options = { tickMs: 1000, ...options };
		this.symbolizer = options.symbolizer ?? new Symbolizer();
		this.#attribution = options.attribution;
		const unwind = options.unwind ?? 'auto';
		this.#profiler = new Profiler({ frequency: options.frequency, pids: options.pids ?? [], unwind });
		if (unwind !== 'fp') {
			this.unwinding = new ProcessUnwinding(this.#profiler, options.unwinding);
			for (const pid of options.pids ?? []) this.unwinding.tracker.track(pid);
		}
		this.#builder = this.#newBuilder();
		if (this.#options.tickMs > 0) this.#timer = setInterval(() => void this.#tickOnce(), this.#options.tickMs);
	}

	get frequency(): number {
		return this.#profiler.frequency;
	}

	/** Drains now, closes the current window, and stops. Returns the last (partial) window. */
	async stop(): Promise<Profile> {
		clearInterval(this.#timer);
		this.#timer = undefined;
		await this.#busy;
		await this.#tick();
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

	async #tick(): Promise<TickStats> {
		const drained = await this.#profiler.drain();
		this.unwinding?.afterDrain(drained.unmappedPids);
		const now = Date.now();
		symbolizeWindow(drained, this.symbolizer, this.#builder, this.cuts, this.#attribution);
		const stats = tickStats(drained, now, now - this.#lastTick);
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

function tickStats(drained: DrainedWindow, ts: number, elapsedMs: number): TickStats {
	const samplesByPid = new Map<number, { comm: string; samples: number }>();
	for (const c of drained.counts) {
		const row = samplesByPid.get(c.pid);
		if (row) row.samples += c.count;
		else samplesByPid.set(c.pid, { comm: c.comm, samples: c.count });
	}
	return { ts, elapsedMs, samplesByPid, counters: drained.totals };
}
