import type { FlameNode } from './flame-tree.ts';
import type { Profile } from './profile.ts';

/**
 * A place in a flame graph as the Profiles page names it: the process (comm), then frame names
 * root first. Names, not ids, so a path survives a re-query and fits in a URL.
 */
export type FlamePath = readonly string[];

/**
 * The samples a flame graph node at `path` holds: those of the path's comm whose stack begins
 * with the path's frames. Frames and metadata are kept, so totals stay comparable.
 */
export function samplesUnder(profile: Profile, path: FlamePath): Profile {
	if (path.length === 0) return profile;
	const [comm, ...names] = path;
	const samples = profile.samples.filter((sample) => {
		if ((sample.comm || '[unknown]') !== comm || sample.stack.length < names.length) return false;
		for (let i = 0; i < names.length; i++) {
			if (profile.frames[sample.stack[i]!]?.name !== names[i]) return false;
		}
		return true;
	});
	return { ...profile, samples };
}

/** The node at `path` below `root` (the "all" node), or null when the tree has no such path. */
export function findNode(root: FlameNode, path: FlamePath): FlameNode | null {
	let node: FlameNode | undefined = root;
	for (const name of path) {
		node = node.children.find((child) => child.name === name && child.hidden === undefined);
		if (!node) return null;
	}
	return node;
}

/**
 * `root` with the node at `path` replaced by `subtree` (the same node at another resolution), so
 * a zoomed-in graph keeps its ancestors and siblings. Nodes off the path are shared, not copied.
 * Returns `root` itself when the path is not in the tree.
 */
export function graftSubtree(root: FlameNode, path: FlamePath, subtree: FlameNode): FlameNode {
	if (path.length === 0) return subtree;
	const [name, ...rest] = path;
	const index = root.children.findIndex((child) => child.name === name && child.hidden === undefined);
	if (index < 0) return root;
	const child = root.children[index]!;
	const grafted = graftSubtree(child, rest, subtree);
	if (grafted === child) return root;
	const children = [...root.children];
	children[index] = grafted;
	return { ...root, children };
}
