import { type Frame, type FrameKind, frameKey } from './frame.ts';
import { type Profile, totalWeight } from './profile.ts';

export interface DiffFunctionRow {
	readonly name: string;
	readonly module: string;
	readonly kind: FrameKind;
	/** Samples on each side: self as the leaf, total anywhere on the stack (once per stack). */
	readonly baselineSelf: number;
	readonly comparisonSelf: number;
	readonly baselineTotal: number;
	readonly comparisonTotal: number;
	/** Comparison share minus baseline share of each side's total, in -1..1: > 0 is a regression. */
	readonly selfDelta: number;
	readonly totalDelta: number;
}

/**
 * Every function seen on either side with its counts on both, a function on one side only
 * having 0 on the other. Unsorted: the caller ranks by self or total delta.
 */
export function diffFunctions(baseline: Profile, comparison: Profile): DiffFunctionRow[] {
	const baselineSum = totalWeight(baseline);
	const comparisonSum = totalWeight(comparison);
	// Functions by name, module and kind (source file and line left out, as the table shows them),
	// with [baseline self, comparison self, baseline total, comparison total] in one flat array.
	const ids = new Map<string, number>();
	const functions: Frame[] = [];
	const counts: number[] = [];
	const add = (profile: Profile, side: 0 | 1) => {
		const idOf = new Int32Array(profile.frames.length);
		profile.frames.forEach((frame, index) => {
			const key = frameKey({ name: frame.name, module: frame.module, kind: frame.kind });
			let id = ids.get(key);
			if (id === undefined) {
				id = functions.push(frame) - 1;
				ids.set(key, id);
				counts.push(0, 0, 0, 0);
			}
			idOf[index] = id;
		});
		// seen[id] holds the index (+1) of the last sample that counted id, so recursion counts once.
		const seen = new Int32Array(functions.length);
		profile.samples.forEach((sample, index) => {
			const stamp = index + 1;
			for (const frame of sample.stack) {
				const id = idOf[frame]!;
				if (seen[id] === stamp) continue;
				seen[id] = stamp;
				counts[4 * id + 2 + side]! += sample.weight;
			}
			const leaf = sample.stack[sample.stack.length - 1];
			if (leaf !== undefined) counts[4 * idOf[leaf]! + side]! += sample.weight;
		});
	};
	add(baseline, 0);
	add(comparison, 1);
	const share = (value: number, total: number) => (total > 0 ? value / total : 0);
	const rows: DiffFunctionRow[] = [];
	functions.forEach((frame, id) => {
		const [bs, cs, bt, ct] = [counts[4 * id]!, counts[4 * id + 1]!, counts[4 * id + 2]!, counts[4 * id + 3]!];
		// A frame no sample reaches is not a function of either profile.
		if (bt === 0 && ct === 0) return;
		rows.push({
			name: frame.name,
			module: frame.module,
			kind: frame.kind,
			baselineSelf: bs,
			comparisonSelf: cs,
			baselineTotal: bt,
			comparisonTotal: ct,
			selfDelta: share(cs, comparisonSum) - share(bs, baselineSum),
			totalDelta: share(ct, comparisonSum) - share(bt, baselineSum),
		});
	});
	return rows;
}
