import { type FrameKind, frameKey } from './frame.ts';
import { type Profile, totalWeight } from './profile.ts';
import { topFunctions } from './top-functions.ts';

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
	const rows = new Map<string, { name: string; module: string; kind: FrameKind; counts: [number, number, number, number] }>();
	const add = (profile: Profile, side: 0 | 1) => {
		for (const row of topFunctions(profile)) {
			// topFunctions drops file and line; its name, module and kind are the function.
			const key = frameKey({ name: row.name, module: row.module, kind: row.kind });
			let entry = rows.get(key);
			if (!entry) rows.set(key, (entry = { name: row.name, module: row.module, kind: row.kind, counts: [0, 0, 0, 0] }));
			entry.counts[side]! += row.self;
			entry.counts[side + 2]! += row.total;
		}
	};
	add(baseline, 0);
	add(comparison, 1);
	const share = (value: number, total: number) => (total > 0 ? value / total : 0);
	return [...rows.values()].map(({ name, module, kind, counts: [bs, cs, bt, ct] }) => ({
		name,
		module,
		kind,
		baselineSelf: bs,
		comparisonSelf: cs,
		baselineTotal: bt,
		comparisonTotal: ct,
		selfDelta: share(cs, comparisonSum) - share(bs, baselineSum),
		totalDelta: share(ct, comparisonSum) - share(bt, baselineSum),
	}));
}
