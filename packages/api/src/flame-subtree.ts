import { findNode, samplesUnder, searchProfile, type FlameNode, type Profile, type SearchCount } from '@firesight/profile';
import { prunedTree } from './flame-result.ts';

export interface FlameSubtree {
	path: string[];
	/** The node at `path`, pruned relative to its own total; null when no sample is under it. */
	tree: FlameNode | null;
	nodes: number;
	prunedNodes: number;
	hiddenNodes: number;
	hiddenSamples: number;
	/** Samples under the path. */
	totalSamples: number;
	threshold: number;
	cached: boolean;
}

/**
 * The subtree at `path` at full resolution: only its samples are turned into a tree, and the
 * pruning is relative to its own width, so a zoomed-in graph shows what the whole-profile tree
 * had merged into remainders.
 */
export function flameSubtree(profile: Profile, path: string[], minFraction: number, cached: boolean): FlameSubtree {
	const under = samplesUnder(profile, path);
	const tree = prunedTree(under, { minFraction });
	const node = findNode(tree.root, path);
	return {
		path,
		tree: node,
		nodes: tree.nodes,
		prunedNodes: tree.pruned,
		hiddenNodes: tree.hiddenNodes,
		hiddenSamples: tree.hiddenWeight,
		totalSamples: node?.value ?? 0,
		threshold: tree.threshold,
		cached,
	};
}

export interface FlameSearchResult extends SearchCount {
	/** The zoomed node's path the counts are relative to, or null for the whole profile. */
	path: string[] | null;
	cached: boolean;
}

/** A search counted on the whole merged profile, or on the samples under the zoomed node. */
export function flameSearch(profile: Profile, term: string, path: string[] | undefined, cached: boolean): FlameSearchResult {
	const scope = path ? samplesUnder(profile, path) : profile;
	return { ...searchProfile(scope, term), path: path ?? null, cached };
}
