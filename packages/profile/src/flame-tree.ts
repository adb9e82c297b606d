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
	/**
	 * Set on a remainder node only (see `prunedFlameTree`): how many nodes narrower than the
	 * pruning threshold it stands for. Its value is their weight, so widths stay exact.
	 */
	readonly hidden?: number;
}

/** The name of a remainder node; `hidden` tells it apart from a frame that happens to share it. */
export const HIDDEN_NODE_NAME = '[narrow frames]';

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

/**
 * Turns a profile into a flame graph tree. Pruned nodes' weight stays in their parent's value
 * (it is a total), so widths and percentages remain right; the parent just shows more self time.
 * Siblings are sorted by name, as flame graphs are, so equal profiles paint identically.
 */
export function toFlameTree(profile: Profile, options: FlameTreeOptions = {}): FlameTree {
	// A flat trie in typed arrays: 100k stacks can make millions of nodes, too many for an object
	// and a Map each. Node 0 is the root; a child is always created after its parent. There are
	// never more nodes than frames in all stacks plus one per sample and the root.
	const samples = profile.samples;
	let capacity = 1 + samples.length;
	for (const sample of samples) capacity += sample.stack.length;
	const parent = new Int32Array(capacity);
	const frame = new Int32Array(capacity);
	const value = new Float64Array(capacity);
	parent[0] = -1;
	frame[0] = -1;
	let count = 1;
	const processNames = new Map<number, string>();
	const addNode = (parentNode: number, frameId: number): number => {
		parent[count] = parentNode;
		frame[count] = frameId;
		return count++;
	};

	// Visiting stacks in sorted order, a stack shares nodes with the one before it exactly as far
	// as their common prefix goes, so no lookup per frame is needed.
	const comms = samples.map((s) => s.comm || '[unknown]');
	const order = samples.map((_, i) => i);
	order.sort((a, b) => compareSamples(comms[a]!, samples[a]!.stack, comms[b]!, samples[b]!.stack));
	const path: number[] = [];
	let previous: readonly number[] = [];
	let processNode = 0;
	for (const index of order) {
		const sample = samples[index]!;
		const stack = sample.stack;
		let common = 0;
		if (processNode === 0 || processNames.get(processNode) !== comms[index]) {
			processNode = addNode(0, -1);
			processNames.set(processNode, comms[index]!);
		} else {
			while (common < stack.length && common < previous.length && stack[common] === previous[common]) common++;
		}
		let node = common === 0 ? processNode : path[common - 1]!;
		for (let depth = common; depth < stack.length; depth++) {
			node = addNode(node, stack[depth]!);
			path[depth] = node;
		}
		value[0]! += sample.weight;
		value[processNode]! += sample.weight;
		for (let depth = 0; depth < stack.length; depth++) value[path[depth]!]! += sample.weight;
		previous = stack;
	}

	// Children lists as ranges of one array, and subtree sizes for counting what is pruned.
	const firstChild = new Int32Array(count + 1);
	for (let n = 1; n < count; n++) firstChild[parent[n]! + 1]!++;
	for (let n = 0; n < count; n++) firstChild[n + 1]! += firstChild[n]!;
	const children = new Int32Array(Math.max(count - 1, 0));
	const fill = firstChild.slice(0, count);
	for (let n = 1; n < count; n++) children[fill[parent[n]!]!++] = n;
	const subtree = new Int32Array(count).fill(1);
	for (let n = count - 1; n > 0; n--) subtree[parent[n]!]! += subtree[n]!;

	const threshold = (options.minFraction ?? 0) * value[0]!;
	let pruned = 0;
	const convert = (node: number): FlameNode => {
		const kept: FlameNode[] = [];
		for (let i = firstChild[node]!; i < firstChild[node + 1]!; i++) {
			const child = children[i]!;
			if (value[child]! < threshold) pruned += subtree[child]!;
			else kept.push(convert(child));
		}
		kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
		if (frame[node]! < 0) {
			return { name: node === 0 ? 'all' : processNames.get(node)!, value: value[node]!, children: kept };
		}
		const f = profile.frames[frame[node]!];
		return {
			name: f?.name ?? '',
			value: value[node]!,
			children: kept,
			kind: f?.kind ?? 'user',
			module: f?.module ?? '',
		};
	};
	return { root: convert(0), pruned };
}

function compareSamples(commA: string, a: readonly number[], commB: string, b: readonly number[]): number {
	if (commA !== commB) return commA < commB ? -1 : 1;
	const length = Math.min(a.length, b.length);
	for (let i = 0; i < length; i++) {
		if (a[i] !== b[i]) return a[i]! - b[i]!;
	}
	return a.length - b.length;
}
