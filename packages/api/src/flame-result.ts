import {
	prunedFlameTree,
	prunedFlameTreeSteps,
	topFunctionsSteps,
	totalWeight,
	type FlameNode,
	type FunctionRow,
	type Profile,
	type PrunedFlameTree,
} from '@firesight/profile';

export interface FlameResult {
	fromMs: number;
	toMs: number;
	/** d3-flame-graph shaped: "all" → process (comm) → frames root first. */
	tree: FlameNode;
	/**
	 * Nodes sent (remainders included), and nodes dropped by `minFraction` or `maxNodes`: their
	 * weight is in one remainder node per parent (`FlameNode.hidden`), so widths stay exact.
	 */
	nodes: number;
	prunedNodes: number;
	/** Remainder nodes sent and the samples they hold. */
	hiddenNodes: number;
	hiddenSamples: number;
	minFraction: number;
	/** The weight below which nodes were merged into remainders (`minFraction` or more under `maxNodes`). */
	threshold: number;
	/** From the whole profile, before pruning: the table, the search and the graph's widths agree. */
	topFunctions: FunctionRow[];
	/** Distinct functions before `topLimit`. */
	functions: number;
	totalSamples: number;
	windows: number;
	/** Mean over the merged windows; 0 when none matched. */
	frequencyHz: number;
	/** Whether the merge was reused from the hub's range cache. */
	cached: boolean;
}

/** Most nodes one flame answer carries: far more than a screen shows, far less than a busy hour holds. */
export const MAX_FLAME_NODES = 20_000;

export function countNodes(node: FlameNode): number {
	let n = 1;
	for (const c of node.children) n += countNodes(c);
	return n;
}

/** Computes a value once per merged range when the caller caches them (see `CachedRange.derive`). */
export type Derive = <T>(key: string, make: () => T) => T;
const once: Derive = (_key, make) => make();

export type PrunedTree = PrunedFlameTree;

/** The tree as sent: narrow nodes merged into remainders, at most `maxNodes` frames. */
export function prunedTree(profile: Profile, options: { minFraction: number; maxNodes?: number | undefined }): PrunedTree {
	return prunedFlameTree(profile, { minFraction: options.minFraction, maxNodes: options.maxNodes ?? MAX_FLAME_NODES });
}

/** Runs a stepped computation with the event loop free between steps (see `prunedFlameTreeSteps`). */
export async function sliced<T>(steps: Generator<void, T>): Promise<T> {
	for (;;) {
		const step = steps.next();
		if (step.done) return step.value;
		await new Promise<void>((resolve) => setImmediate(resolve));
	}
}

/**
 * What the Profiles page draws of one profile: the pruned tree and the top functions table, built
 * a slice at a time so the hub answers other requests meanwhile.
 */
export async function flameResult(
	profile: Profile,
	range: { fromMs: number; toMs: number },
	windows: number,
	options: { minFraction: number; topLimit: number; maxNodes?: number | undefined },
	derive: Derive = once,
	cached = false,
): Promise<FlameResult> {
	const tree = await derive(`tree:${options.minFraction}:${options.maxNodes ?? ''}`, () =>
		sliced(prunedFlameTreeSteps(profile, { minFraction: options.minFraction, maxNodes: options.maxNodes ?? MAX_FLAME_NODES })),
	);
	const rows = await derive('top', () => sliced(topFunctionsSteps(profile)));
	const totalSamples = derive('total', () => totalWeight(profile));
	return {
		fromMs: range.fromMs,
		toMs: range.toMs,
		tree: tree.root,
		nodes: tree.nodes,
		prunedNodes: tree.pruned,
		hiddenNodes: tree.hiddenNodes,
		hiddenSamples: tree.hiddenWeight,
		minFraction: options.minFraction,
		threshold: tree.threshold,
		topFunctions: rows.slice(0, options.topLimit),
		functions: rows.length,
		totalSamples,
		windows,
		frequencyHz: windows > 0 ? profile.frequencyHz : 0,
		cached,
	};
}
