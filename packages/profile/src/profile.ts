import type { Frame } from './frame.ts';

/** When and how a profile was sampled. */
export interface ProfileMeta {
	/** Wall-clock start, milliseconds since the Unix epoch. */
	readonly startMs: number;
	readonly durationMs: number;
	/** Sampling rate; one sample of weight 1 stands for 1e9 / frequencyHz nanoseconds of CPU. */
	readonly frequencyHz: number;
}

export interface SampleLabels {
	readonly pid: number;
	readonly comm: string;
	/**
	 * The HTTP endpoint the sampled thread was serving, as `METHOD /path/template` (the request
	 * table's method and endpoint): set from the TLS capture's per-thread current request.
	 */
	readonly endpoint?: string;
	/**
	 * The served request's id (a request record's `requestId`); kept only for slow requests, so
	 * the others merge per endpoint. On an ambiguous sample: every slow request whose lifetime on
	 * the thread may hold it, as a list (`parseRequestIds`).
	 */
	readonly requestId?: string;
	/** Several requests were open on the thread: `endpoint` names the one read last. */
	readonly ambiguous?: boolean;
}

export interface ProfileSample extends SampleLabels {
	/** Ids into `Profile.frames`, root first. Plain numbers keep 100k stacks cheap. */
	readonly stack: readonly number[];
	/** Number of times this (stack, pid, comm) was sampled; always > 0. */
	readonly weight: number;
}

/**
 * A window of symbolized stacks with counts. Plain data (no classes) so it can be cloned, stored
 * and sent as is. Every (stack, pid, comm) appears once: `ProfileBuilder` merges duplicates.
 */
export interface Profile extends ProfileMeta {
	/** Interned frames, indexed by the ids in sample stacks. */
	readonly frames: readonly Frame[];
	readonly samples: readonly ProfileSample[];
}

/** Nanoseconds of CPU one sample stands for. */
export function periodNs(meta: ProfileMeta): number {
	return 1e9 / meta.frequencyHz;
}

/** Sum of all sample weights. */
export function totalWeight(profile: Profile): number {
	let total = 0;
	for (const sample of profile.samples) total += sample.weight;
	return total;
}

/** Throws a RangeError when metadata cannot describe a real sampling window. */
export function checkProfileMeta(meta: ProfileMeta): void {
	if (!Number.isFinite(meta.startMs)) throw new RangeError(`startMs must be finite, got ${meta.startMs}`);
	if (!(Number.isFinite(meta.durationMs) && meta.durationMs >= 0)) {
		throw new RangeError(`durationMs must be >= 0, got ${meta.durationMs}`);
	}
	if (!(Number.isFinite(meta.frequencyHz) && meta.frequencyHz > 0)) {
		throw new RangeError(`frequencyHz must be > 0, got ${meta.frequencyHz}`);
	}
}
