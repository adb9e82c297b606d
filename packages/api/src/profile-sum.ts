import { FrameTable, type Profile, type ProfileSample, type SampleLabels } from '@firesight/profile';
import { FALLBACK_FREQUENCY_HZ, type MergedProfile } from '@firesight/store';

/** A sum that would go below zero: what was taken out was never added, so the sum is not the windows'. */
export class ProfileSumMismatch extends Error {}

function hashText(h: number, text: string | undefined): number {
	if (text === undefined) return Math.imul(h ^ 0x5bd1e995, 16777619);
	for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
	return Math.imul(h ^ text.length, 16777619);
}

/**
 * A number for the sample's identity (stack and labels), FNV-1a style: a string key per sample
 * made indexing a quarter hour's 110k samples take a second.
 */
function sampleHash(stack: readonly number[], labels: SampleLabels): number {
	let h = Math.imul(0x811c9dc5 ^ labels.pid, 16777619);
	for (let i = 0; i < stack.length; i++) h = Math.imul(h ^ stack[i]!, 16777619);
	h = hashText(Math.imul(h ^ stack.length, 16777619), labels.comm);
	if (labels.endpoint !== undefined || labels.requestId !== undefined || labels.ambiguous !== undefined) {
		h = hashText(hashText(h, labels.endpoint), labels.requestId);
		h = Math.imul(h ^ (labels.ambiguous === undefined ? 2 : Number(labels.ambiguous)), 16777619);
	}
	return h >>> 0;
}

function sameSample(a: ProfileSample, stack: readonly number[], labels: SampleLabels): boolean {
	if (
		a.pid !== labels.pid ||
		a.comm !== labels.comm ||
		a.endpoint !== labels.endpoint ||
		a.requestId !== labels.requestId ||
		a.ambiguous !== labels.ambiguous ||
		a.stack.length !== stack.length
	) {
		return false;
	}
	for (let i = 0; i < stack.length; i++) if (a.stack[i] !== stack[i]) return false;
	return true;
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
	#hashes: number[] = [];
	/** Sample positions by hash: almost always one. */
	#at = new Map<number, number[]>();
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
			const hash = sampleHash(stack, sample);
			const at = this.#at.get(hash)?.find((i) => sameSample(this.#samples[i]!, stack, sample));
			const weight = (at === undefined ? 0 : this.#samples[at]!.weight) + sign * sample.weight;
			if (weight < 0) throw new ProfileSumMismatch(`a sample of ${sample.comm} would weigh ${weight}`);
			if (at === undefined) {
				if (weight > 0) this.#push(hash, sampleOf(stack, weight, sample));
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

	#push(hash: number, sample: ProfileSample): void {
		const same = this.#at.get(hash);
		if (same) same.push(this.#samples.length);
		else this.#at.set(hash, [this.#samples.length]);
		this.#samples.push(sample);
		this.#hashes.push(hash);
		for (const id of sample.stack) {
			const uses = this.#uses[id];
			if (uses === 0) this.#dead -= 1;
			this.#uses[id] = (uses ?? 0) + 1;
		}
	}

	/** Swaps the last sample into the removed one's place: order is not part of a profile. */
	#remove(at: number): void {
		const gone = this.#samples[at]!;
		const goneHash = this.#hashes[at]!;
		const same = this.#at.get(goneHash)!;
		if (same.length === 1) this.#at.delete(goneHash);
		else same.splice(same.indexOf(at), 1);
		const last = this.#samples.length - 1;
		const lastSample = this.#samples.pop()!;
		const lastHash = this.#hashes.pop()!;
		if (at < last) {
			this.#samples[at] = lastSample;
			this.#hashes[at] = lastHash;
			const moved = this.#at.get(lastHash)!;
			moved[moved.indexOf(last)] = at;
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
		this.#hashes = [];
		this.#at = new Map();
		const remap = new Int32Array(frames.length).fill(-1);
		for (const sample of samples) {
			const stack = sample.stack.map((from) => {
				let to = remap[from]!;
				if (to < 0) to = remap[from] = this.#frames.intern(frames[from]!);
				return to;
			});
			this.#push(sampleHash(stack, sample), sampleOf(stack, sample.weight, sample));
		}
	}
}
