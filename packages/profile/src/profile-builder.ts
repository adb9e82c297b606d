import type { Frame } from './frame.ts';
import { FrameTable } from './frame-table.ts';
import { type Profile, type ProfileMeta, type ProfileSample, type SampleLabels, checkProfileMeta } from './profile.ts';

interface MutableSample {
	readonly stack: readonly number[];
	weight: number;
	readonly labels: SampleLabels;
}

/**
 * The labels as a map key's tail. pid and ids hold no '|', so comm goes last where it is the only
 * free text; the request labels, when present, are JSON so any text in them stays unambiguous.
 */
function labelKey(labels: SampleLabels): string {
	if (labels.endpoint === undefined && labels.requestId === undefined && labels.ambiguous === undefined) return labels.comm;
	return `\0${JSON.stringify([labels.comm, labels.endpoint ?? null, labels.requestId ?? null, labels.ambiguous ?? null])}`;
}

/** Only the labels a sample has: an unlabelled sample stays `{ pid, comm }`. */
function copyLabels(labels: SampleLabels): SampleLabels {
	const out: { pid: number; comm: string; endpoint?: string; requestId?: string; ambiguous?: boolean } = {
		pid: labels.pid,
		comm: labels.comm,
	};
	if (labels.endpoint !== undefined) out.endpoint = labels.endpoint;
	if (labels.requestId !== undefined) out.requestId = labels.requestId;
	if (labels.ambiguous !== undefined) out.ambiguous = labels.ambiguous;
	return out;
}

/**
 * Accumulates samples into a `Profile`, interning frames and merging samples with an equal
 * stack and equal labels (pid, comm, and the request labels when present). Samples keep first-seen order so output is deterministic.
 */
export class ProfileBuilder {
	readonly frames = new FrameTable();
	readonly #meta: ProfileMeta;
	readonly #samples = new Map<string, MutableSample>();

	constructor(meta: ProfileMeta) {
		checkProfileMeta(meta);
		this.#meta = { startMs: meta.startMs, durationMs: meta.durationMs, frequencyHz: meta.frequencyHz };
	}

	/** Adds `weight` samples of `stack` (root first). A weight of 0 adds nothing. */
	appendSample(stack: readonly Frame[], weight: number, labels: SampleLabels): void {
		const ids = new Array<number>(stack.length);
		for (let i = 0; i < stack.length; i++) ids[i] = this.frames.intern(stack[i]!);
		this.appendSampleIds(ids, weight, labels);
	}

	/** Like `appendSample` with frames already interned in `this.frames`. Takes ownership of `ids`. */
	appendSampleIds(ids: readonly number[], weight: number, labels: SampleLabels): void {
		if (!Number.isSafeInteger(weight) || weight < 0) {
			throw new RangeError(`sample weight must be a non-negative integer, got ${weight}`);
		}
		if (weight === 0) return;
		const key = `${labels.pid}|${ids.join(',')}|${labelKey(labels)}`;
		const existing = this.#samples.get(key);
		if (existing) {
			existing.weight += weight;
			return;
		}
		for (const id of ids) {
			if (!(id >= 0 && id < this.frames.size)) throw new RangeError(`unknown frame id ${id}`);
		}
		this.#samples.set(key, { stack: ids, weight, labels: copyLabels(labels) });
	}

	/** Appends the samples of another profile (those `keep` accepts), re-interning its frames. */
	appendProfile(profile: Profile, keep?: (sample: ProfileSample) => boolean): void {
		// -1 marks a frame of `profile` not interned here yet; only referenced frames get interned.
		const remap = new Int32Array(profile.frames.length).fill(-1);
		for (const sample of profile.samples) {
			if (keep && !keep(sample)) continue;
			const ids = new Array<number>(sample.stack.length);
			for (let i = 0; i < ids.length; i++) {
				const from = sample.stack[i]!;
				let to = remap[from];
				if (to === undefined) throw new RangeError(`sample references unknown frame id ${from}`);
				if (to < 0) {
					to = this.frames.intern(profile.frames[from]!);
					remap[from] = to;
				}
				ids[i] = to;
			}
			this.appendSampleIds(ids, sample.weight, sample);
		}
	}

	build(): Profile {
		const samples: ProfileSample[] = [];
		for (const s of this.#samples.values()) {
			samples.push({ stack: s.stack, weight: s.weight, ...s.labels });
		}
		return { ...this.#meta, frames: this.frames.toArray(), samples };
	}
}
