import type { FlameNode } from '@firesight/profile';

/** Case-insensitive substring match, the same rule in the graph, the share and the table. */
export function matchesSearch(name: string, term: string): boolean {
	const needle = term.trim().toLowerCase();
	return needle.length > 0 && name.toLowerCase().includes(needle);
}

export interface SearchShare {
	/** Samples under at least one matching frame, each sample counted once. */
	matched: number;
	total: number;
	/** How many nodes of the tree match (a function called from several places matches several). */
	nodes: number;
}

/**
 * The share of all samples that pass through a matching frame. A match nested in another match
 * is not counted again, so recursion and repeated names never push the share past 100%.
 */
export function searchShare(root: FlameNode, term: string): SearchShare {
	let matched = 0;
	let nodes = 0;
	const stack: { node: FlameNode; covered: boolean }[] = root.children.map((node) => ({ node, covered: false }));
	while (stack.length > 0) {
		const { node, covered } = stack.pop()!;
		const hit = matchesSearch(node.name, term);
		if (hit) {
			nodes += 1;
			if (!covered) matched += node.value;
		}
		for (const child of node.children) stack.push({ node: child, covered: covered || hit });
	}
	return { matched, total: root.value, nodes };
}

/** Self weight: what the node's own frame was on CPU for, children excluded. */
export function selfValue(node: FlameNode): number {
	let children = 0;
	for (const child of node.children) children += child.value;
	return Math.max(0, node.value - children);
}
