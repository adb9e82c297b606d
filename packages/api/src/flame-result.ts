import { toFlameTree, topFunctions, totalWeight, type FlameNode, type FunctionRow, type Profile } from '@firesight/profile';

export interface FlameResult {
	fromMs: number;
	toMs: number;
	/** d3-flame-graph shaped: "all" → process (comm) → frames root first. */
	tree: FlameNode;
	/** Nodes sent, and nodes dropped by `minFraction` (their weight stays in the parent). */
	nodes: number;
	prunedNodes: number;
	minFraction: number;
	topFunctions: FunctionRow[];
	/** Distinct functions before `topLimit`. */
	functions: number;
	totalSamples: number;
	windows: number;
	/** Mean over the merged windows; 0 when none matched. */
	frequencyHz: number;
}

function countNodes(node: FlameNode): number {
	let n = 1;
	for (const c of node.children) n += countNodes(c);
	return n;
}

/** What the Profiles page draws of one profile: the pruned tree and the top functions table. */
export function flameResult(
	profile: Profile,
	range: { fromMs: number; toMs: number },
	windows: number,
	options: { minFraction: number; topLimit: number },
): FlameResult {
	const { root, pruned } = toFlameTree(profile, { minFraction: options.minFraction });
	const rows = topFunctions(profile);
	return {
		fromMs: range.fromMs,
		toMs: range.toMs,
		tree: root,
		nodes: countNodes(root),
		prunedNodes: pruned,
		minFraction: options.minFraction,
		topFunctions: rows.slice(0, options.topLimit),
		functions: rows.length,
		totalSamples: totalWeight(profile),
		windows,
		frequencyHz: windows > 0 ? profile.frequencyHz : 0,
	};
}
