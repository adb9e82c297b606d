import type { FrameKind } from './frame.ts';
import type { Profile } from './profile.ts';
import { STEP_SAMPLES, runSteps } from './steps.ts';

export interface FunctionRow {
	readonly name: string;
	readonly module: string;
	readonly kind: FrameKind;
	/** Weight of samples where this function is the leaf (on CPU itself). */
	readonly self: number;
	/** Weight of samples where it is anywhere on the stack, counted once even when recursive. */
	readonly total: number;
}

/**
 * One row per function seen in a sample, by self then total, largest first. A function is its
 * frames that differ only in line (an imported pprof keeps each line a frame).
 */
export function topFunctions(profile: Profile): FunctionRow[] {
	return runSteps(topFunctionsSteps(profile));
}

/** `topFunctions` in steps of about STEP_SAMPLES samples (see `prunedFlameTreeSteps`). */
export function* topFunctionsSteps(profile: Profile): Generator<void, FunctionRow[]> {
	// fn[frame id] = the id of the first frame of the same function.
	const fn = new Int32Array(profile.frames.length);
	const firstOf = new Map<string, number>();
	profile.frames.forEach((frame, id) => {
		if (frame.line === undefined) return void (fn[id] = id);
		const key = `${frame.kind}\u0000${frame.module}\u0000${frame.name}\u0000${frame.file ?? ''}`;
		const first = firstOf.get(key);
		if (first === undefined) firstOf.set(key, id);
		fn[id] = first ?? id;
	});
	const count = profile.frames.length;
	const self = new Float64Array(count);
	const total = new Float64Array(count);
	// seen[id] holds the index (+1) of the last sample that counted id, so recursion counts once.
	const seen = new Int32Array(count);
	const samples = profile.samples;
	for (let index = 0; index < samples.length; index++) {
		if (index > 0 && index % STEP_SAMPLES === 0) yield;
		const sample = samples[index]!;
		const stamp = index + 1;
		for (const frame of sample.stack) {
			const id = fn[frame]!;
			if (seen[id] === stamp) continue;
			seen[id] = stamp;
			total[id]! += sample.weight;
		}
		const leaf = sample.stack[sample.stack.length - 1];
		if (leaf !== undefined) self[fn[leaf]!]! += sample.weight;
	}

	const rows: FunctionRow[] = [];
	for (let id = 0; id < count; id++) {
		if (total[id] === 0) continue;
		const frame = profile.frames[id]!;
		rows.push({ name: frame.name, module: frame.module, kind: frame.kind, self: self[id]!, total: total[id]! });
	}
	const byName = (a: FunctionRow, b: FunctionRow) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
	rows.sort((a, b) => b.self - a.self || b.total - a.total || byName(a, b));
	return rows;
}
