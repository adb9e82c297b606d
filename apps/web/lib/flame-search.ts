import { matchesSearch, type FlameNode } from '@firesight/profile';

/** Case-insensitive substring match, the same rule in the graph, the share, the table and the hub. */
export { matchesSearch };

export interface SearchShare {
	/** Samples under at least one matching frame, each sample counted once. */
	matched: number;
	total: number;
	/** How many nodes of the tree match (a function called from several places matches several). */
	nodes: number;
	/**
	 * Of `matched`, the samples the graph cannot draw: in frames merged into remainder nodes.
	 * Absent when `matched` was counted on the drawn tree itself.
	 */
	hidden?: number;
	/** The zoomed frame the counts are relative to; absent for the whole profile. */
	scope?: string;
}

/**
 * The share of all samples that pass through a matching drawn frame. A match nested in another
 * match is not counted again, so recursion and repeated names never push the share past 100%.
 * Remainder nodes are not frames and never match.
 */
export function searchShare(root: FlameNode, term: string): SearchShare {
	let matched = 0;
	let nodes = 0;
	const stack: { node: FlameNode; covered: boolean }[] = root.children.map((node) => ({ node, covered: false }));
	while (stack.length > 0) {
		const { node, covered } = stack.pop()!;
		const hit = node.hidden === undefined && matchesSearch(node.name, term);
		if (hit) {
			nodes += 1;
			if (!covered) matched += node.value;
		}
		for (const child of node.children) stack.push({ node: child, covered: covered || hit });
	}
	return { matched, total: root.value, nodes };
}

/**
 * The share as the hub counted it on every sample (under the zoomed node when zoomed), with the
 * drawn tree's matches: what the graph highlights plus what it holds in remainders adds up to it.
 */
export function combinedShare(counted: { matched: number; total: number }, drawn: SearchShare, scope: string | null): SearchShare {
	return {
		matched: counted.matched,
		total: counted.total,
		nodes: drawn.nodes,
		hidden: Math.max(0, counted.matched - drawn.matched),
		...(scope !== null ? { scope } : {}),
	};
}

/** Self weight: what the node's own frame was on CPU for, children excluded. */
export function selfValue(node: FlameNode): number {
	let children = 0;
	for (const child of node.children) children += child.value;
	return Math.max(0, node.value - children);
}
