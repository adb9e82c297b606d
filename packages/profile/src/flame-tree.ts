import type { FrameKind } from './frame.ts';
import type { Profile } from './profile.ts';

/** A flame graph node in the shape d3-flame-graph takes: `value` is the total, children included. */
export interface FlameNode {
	readonly name: string;
	readonly value: number;
	readonly children: FlameNode[];
	/** Absent on the root and process levels, which are not frames. */
	readonly kind?: FrameKind;
	readonly module?: string;
}

export interface FlameTreeOptions {
	/** Drop nodes whose total is below this fraction of the root total (0..1). Default 0: keep all. */
	readonly minFraction?: number;
}

export interface FlameTree {
	/** Named "all"; its children are processes (by comm), theirs the stacks root first. */
	readonly root: FlameNode;
	/** How many nodes were dropped by `minFraction`, counting whole dropped subtrees. */
	readonly pruned: number;
}

interface TrieNode {
	name: string;
	/** Frame id, or -1 for the root and process levels. */
	frame: number;
	value: number;
	children: Map<number | string, TrieNode>;
}

function trieNode(name: string, frame: number): TrieNode {
	return { name, frame, value: 0, children: new Map() };
}

function countNodes(node: TrieNode): number {
	let count = 1;
	for (const child of node.children.values()) count += countNodes(child);
	return count;
}

/**
 * Turns a profile into a flame graph tree. Pruned nodes' weight stays in their parent's value
 * (it is a total), so widths and percentages remain right; the parent just shows more self time.
 * Siblings are sorted by name, as flame graphs are, so equal profiles paint identically.
 */
export function toFlameTree(profile: Profile, options: FlameTreeOptions = {}): FlameTree {
	const root = trieNode('all', -1);
	for (const sample of profile.samples) {
		root.value += sample.weight;
		const comm = sample.comm || '[unknown]';
		let node: TrieNode | undefined = root.children.get(comm);
		if (node === undefined) {
			node = trieNode(comm, -1);
			root.children.set(comm, node);
		}
		node.value += sample.weight;
		for (const id of sample.stack) {
			let child: TrieNode | undefined = node.children.get(id);
			if (child === undefined) {
				child = trieNode(profile.frames[id]?.name ?? '', id);
				node.children.set(id, child);
			}
			child.value += sample.weight;
			node = child;
		}
	}

	const threshold = (options.minFraction ?? 0) * root.value;
	let pruned = 0;
	const convert = (node: TrieNode): FlameNode => {
		const children: FlameNode[] = [];
		for (const child of node.children.values()) {
			if (child.value < threshold) pruned += countNodes(child);
			else children.push(convert(child));
		}
		children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
		const frame = profile.frames[node.frame];
		return frame
			? { name: node.name, value: node.value, children, kind: frame.kind, module: frame.module }
			: { name: node.name, value: node.value, children };
	};
	return { root: convert(root), pruned };
}
