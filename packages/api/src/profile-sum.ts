import { FrameTable, type Profile, type ProfileSample, type SampleLabels } from '@firesight/profile';
import { FALLBACK_FREQUENCY_HZ, type MergedProfile } from '@firesight/store';

/** A sum that would go below zero: what was taken out was never added, so the sum is not the windows'. */
export class ProfileSumMismatch extends Error {}

/** The sample's identity: pid and stack hold no '|', so comm, the only free text, goes last. */
function sampleKey(pid: number, stack: readonly number[], labels: SampleLabels): string {
	if (labels.endpoint === undefined && labels.requestId === undefined && labels.ambiguous === undefined) {
		return `${pid}|${stack.join(',')}|${labels.comm}`;
	}
	return `${pid}|${stack.join(',')}|\0${JSON.stringify([labels.comm, labels.endpoint ?? null, labels.requestId ?? null, labels.ambiguous ?? null])}`;
}

function sampleOf(stack: readonly number[], weight: number, labels: SampleLabels): ProfileSample {
	const out: {
		pid: number;
		comm: string;
		endpoint?: string;
		requestId?: string;
		ambiguous?: boolean;
		stack: readonly number[];
		weight: number;
	} = { pid: labels.pid, comm: labels.comm, stack, weight };
	if (labels.endpoint !== undefined) out.endpoint = labels.endpoint;
	if (labels.requestId !== undefined) out.requestId = labels.requestId;
	if (labels.ambiguous !== undefined) out.ambiguous = labels.ambiguous;
	return out;
}

/**
 * Merged windows kept as sums that windows can be added to and taken out of again, so a range
 * that moves forward costs the windows that entered and left it, not the whole range. Weights are
 * integers, so a sum is exactly what merging its windows afresh gives; the frequency is the mean
 * over windows, as `queryProfiles` computes it for several hosts.
 */
export class ProfileSum {
	#frames = new FrameTable();
	/** Stacks holding each frame (a frame twice in one stack counts twice): frames at 0 are dead. */
	#uses: number[] = [];
	#dead = 0;
	#samples: ProfileSample[] = [];
	#keys: string[] = [];
	#at = new Map<string, number>();
	#windows = 0;
	/** Σ frequencyHz × windows of what was added, less what was taken out. */
	#hzWindows = 0;

	static of(merged: MergedProfile): ProfileSum {
		const sum = new ProfileSum();
		sum.add(merged, 1);
		return sum;
	}

	get windows(): number {
		return this.#windows;
	}

	/** Samples held, for the cache's memory bound. */
	get size(): number {
		return this.#samples.length;
	}

	/**
	 * Adds (`sign` 1) or takes out (-1) merged windows. Throws `ProfileSumMismatch` when a weight
	 * or the window count would go below zero; the sum is then unusable.
	 */
	add(merged: MergedProfile, sign: 1 | -1): void {
		const { profile } = merged;
		const remap = new Int32Array(profile.frames.length).fill(-1);
		for (const sample of profile.samples) {
			const stack = new Array<number>(sample.stack.length);
			for (let i = 0; i < stack.length; i++) {
				const from = sample.stack[i]!;
				let to = remap[from]!;
				if (to < 0) to = remap[from] = this.#frames.intern(profile.frames[from]!);
				stack[i] = to;
			}
			const key = sampleKey(sample.pid, stack, sample);
			const at = this.#at.get(key);
			const weight = (at === undefined ? 0 : this.#samples[at]!.weight) + sign * sample.weight;
			if (weight < 0) throw new ProfileSumMismatch(`sample ${key} would weigh ${weight}`);
			if (at === undefined) {
				if (weight > 0) this.#push(key, sampleOf(stack, weight, sample));
			} else if (weight === 0) {
				this.#remove(at);
			} else {
				const old = this.#samples[at]!;
				this.#samples[at] = sampleOf(old.stack, weight, old);
			}
		}
		this.#windows += sign * merged.windows;
		if (this.#windows < 0) throw new ProfileSumMismatch(`window count would be ${this.#windows}`);
		this.#hzWindows = this.#windows === 0 ? 0 : this.#hzWindows + sign * profile.frequencyHz * merged.windows;
	}

	/** The sum as a merged range. Its frame table may hold a few frames no sample uses any more. */
	merged(range: { fromMs: number; toMs: number }): MergedProfile {
		// Frames left behind by windows taken out are dropped once they are a quarter of the table.
		if (this.#dead * 4 > this.#frames.size) this.#compact();
		const profile: Profile = {
			startMs: range.fromMs,
			durationMs: Math.max(0, range.toMs - range.fromMs),
			frequencyHz: this.#windows > 0 ? this.#hzWindows / this.#windows : FALLBACK_FREQUENCY_HZ,
			frames: this.#frames.toArray(),
			samples: this.#samples.slice(),
		};
		return { profile, windows: this.#windows };
	}

	#push(key: string, sample: ProfileSample): void {
		this.#at.set(key, this.#samples.length);
		this.#samples.push(sample);
		this.#keys.push(key);
		for (const id of sample.stack) {
			const uses = this.#uses[id];
			if (uses === 0) this.#dead -= 1;
			this.#uses[id] = (uses ?? 0) + 1;
		}
	}

	/** Swaps the last sample into the removed one's place: order is not part of a profile. */
	#remove(at: number): void {
		const gone = this.#samples[at]!;
		this.#at.delete(this.#keys[at]!);
		const lastSample = this.#samples.pop()!;
		const lastKey = this.#keys.pop()!;
		if (at < this.#samples.length) {
			this.#samples[at] = lastSample;
			this.#keys[at] = lastKey;
			this.#at.set(lastKey, at);
		}
		for (const id of gone.stack) {
			const uses = this.#uses[id]! - 1;
			this.#uses[id] = uses;
			if (uses === 0) this.#dead += 1;
		}
	}

	#compact(): void {
		const frames = this.#frames.toArray();
		const samples = this.#samples;
		this.#frames = new FrameTable();
		this.#uses = [];
		this.#dead = 0;
		this.#samples = [];
		this.#keys = [];
		this.#at = new Map();
		const remap = new Int32Array(frames.length).fill(-1);
		for (const sample of samples) {
			const stack = sample.stack.map((from) => {
				let to = remap[from]!;
				if (to < 0) to = remap[from] = this.#frames.intern(frames[from]!);
				return to;
			});
			this.#push(sampleKey(sample.pid, stack, sample), sampleOf(stack, sample.weight, sample));
		}
	}
}
