import type { FlameNode } from '@firesight/profile';

/** One frame as drawn: its place in CSS pixels and rows, and where it sits in the tree. */
export interface FlameRect {
	/** Its own index in `rects`. */
	readonly index: number;
	readonly node: FlameNode;
	/** Row from the root (0), whatever the orientation. */
	readonly depth: number;
	readonly x: number;
	readonly width: number;
	/** The parent's index in `rects`, -1 for the root. */
	readonly parent: number;
	/** Above the zoomed frame: drawn across the whole width, faded, and clicking it zooms out to it. */
	readonly ancestor: boolean;
	/** A grey remainder node: frames too narrow to draw, merged per parent on the hub. */
	readonly remainder: boolean;
}

export interface FlameLayout {
	readonly width: number;
	/** In depth-first order, children left to right, so each row's rects are sorted by x. */
	readonly rects: readonly FlameRect[];
	/** Indices into `rects`, one array per depth, left to right. */
	readonly rows: readonly (readonly number[])[];
	/** The zoomed frame's index (the root's, 0, when not zoomed). */
	readonly focus: number;
	/** The zoom path that was found in the tree (names below the root); empty when not zoomed. */
	readonly zoom: readonly string[];
	/** Drawn remainder nodes. */
	readonly remainders: number;
	/** Nodes of the tree not drawn: narrower than the minimum width, or beside the zoomed frame. */
	readonly skipped: number;
}

export interface LayoutOptions {
	/** The drawing's width in CSS pixels. */
	width: number;
	/** Names below the root, as the URL and the hub's subtree query keep them. */
	zoom?: readonly string[] | undefined;
	/** Frames narrower than this (px) are not drawn, nor anything under them: as d3-flame-graph's minFrameSize. */
	minWidth?: number;
}

/**
 * The nodes on `path` below `root`, root excluded, following frames only (a remainder is never a
 * zoom target); null when some name is not there.
 */
export function resolvePath(root: FlameNode, path: readonly string[]): FlameNode[] | null {
	const chain: FlameNode[] = [];
	let node = root;
	for (const name of path) {
		const next = node.children.find((child) => child.name === name && child.hidden === undefined);
		if (!next) return null;
		chain.push(next);
		node = next;
	}
	return chain;
}

function countNodes(node: FlameNode): number {
	let count = 0;
	const stack = [node];
	while (stack.length > 0) {
		const next = stack.pop()!;
		count += 1;
		for (const child of next.children) stack.push(child);
	}
	return count;
}

/**
 * Rectangles for a flame tree, widths in proportion to samples: a node is `value / focus.value` of
 * the width, so the remainders the hub merged keep every width exact. Zoomed, the zoomed frame and
 * its ancestors span the width, and its siblings (and theirs) are not drawn.
 */
export function layoutFlame(root: FlameNode, options: LayoutOptions): FlameLayout {
	const width = Math.max(0, options.width);
	const minWidth = options.minWidth ?? 1;
	const chain = options.zoom && options.zoom.length > 0 ? resolvePath(root, options.zoom) : null;
	const rects: FlameRect[] = [];
	const rows: number[][] = [];
	let remainders = 0;
	const total = countNodes(root);

	const push = (fields: Omit<FlameRect, 'index'>): number => {
		const rect = { index: rects.length, ...fields };
		const index = rects.push(rect) - 1;
		(rows[rect.depth] ??= []).push(index);
		if (rect.remainder) remainders += 1;
		return index;
	};

	// The root and, zoomed, each ancestor of the focus: the whole width.
	const spine = [root, ...(chain ?? [])];
	let parent = -1;
	for (let depth = 0; depth < spine.length; depth++) {
		const node = spine[depth]!;
		parent = push({ node, depth, x: 0, width, parent, ancestor: depth < spine.length - 1, remainder: node.hidden !== undefined });
	}
	const focus = parent;
	const focusNode = spine[spine.length - 1]!;
	const scale = focusNode.value > 0 ? width / focusNode.value : 0;

	// Below the focus, depth first with an explicit stack (trees run hundreds of frames deep).
	const stack: { node: FlameNode; depth: number; x: number; parent: number }[] = [];
	const pushChildren = (node: FlameNode, depth: number, x: number, index: number) => {
		let offset = x;
		const placed: { node: FlameNode; depth: number; x: number; parent: number }[] = [];
		for (const child of node.children) {
			placed.push({ node: child, depth: depth + 1, x: offset, parent: index });
			offset += child.value * scale;
		}
		// Reversed onto the stack, so the leftmost child comes off first.
		for (let i = placed.length - 1; i >= 0; i--) stack.push(placed[i]!);
	};
	pushChildren(focusNode, spine.length - 1, 0, focus);
	while (stack.length > 0) {
		const next = stack.pop()!;
		const w = next.node.value * scale;
		if (w < minWidth) continue;
		const index = push({
			node: next.node,
			depth: next.depth,
			x: next.x,
			width: w,
			parent: next.parent,
			ancestor: false,
			remainder: next.node.hidden !== undefined,
		});
		pushChildren(next.node, next.depth, next.x, index);
	}

	return {
		width,
		rects,
		rows,
		focus,
		zoom: chain ? chain.map((node) => node.name) : [],
		remainders,
		skipped: total - rects.length,
	};
}

/** The rect drawn at `x` (CSS px) in row `depth`, or null over empty space. */
export function hitTest(layout: FlameLayout, x: number, depth: number): FlameRect | null {
	const row = layout.rows[depth];
	if (!row || row.length === 0) return null;
	// The last rect starting at or before x.
	let lo = 0;
	let hi = row.length - 1;
	let found = -1;
	while (lo <= hi) {
		const mid = (lo + hi) >> 1;
		if (layout.rects[row[mid]!]!.x <= x) {
			found = mid;
			lo = mid + 1;
		} else hi = mid - 1;
	}
	if (found < 0) return null;
	const rect = layout.rects[row[found]!]!;
	return x < rect.x + rect.width ? rect : null;
}

/** A rect's names from below the root down to it: the zoom path a click on it asks for. */
export function pathOf(layout: FlameLayout, rect: FlameRect): string[] {
	const names: string[] = [];
	let current: FlameRect | undefined = rect;
	while (current && current.parent >= 0) {
		names.push(current.node.name);
		current = layout.rects[current.parent];
	}
	return names.reverse();
}

/**
 * Where a click on `rect` zooms to: the frame itself, the parent of a remainder (a remainder is
 * no frame; zooming into its parent asks the hub for the parent at full resolution, which draws
 * what it held), or null for the root (zoomed out).
 */
export function zoomTargetOf(layout: FlameLayout, rect: FlameRect): string[] | null {
	let target: FlameRect | undefined = rect;
	if (rect.remainder) target = layout.rects[rect.parent];
	if (!target || target.parent < 0) return null;
	return pathOf(layout, target);
}
