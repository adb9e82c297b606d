import type { FlameNode } from './flame-tree.ts';
import { HIDDEN_NODE_NAME } from './flame-tree.ts';
import type { Profile } from './profile.ts';

export interface PrunedFlameTreeOptions {
	/** Nodes narrower than this fraction of the root (0..1) are merged into their parent's remainder. */
	readonly minFraction: number;
	/**
	 * Keep at most about this many nodes (remainders not counted): the threshold rises above
	 * `minFraction` until only the widest are left. A node is never wider than its parent, so the
	 * kept nodes always form a tree.
	 */
	readonly maxNodes?: number;
}

export interface PrunedFlameTree {
	/** Named "all"; its children are processes (by comm), theirs the stacks root first. */
	readonly root: FlameNode;
	/** Nodes drawn (remainders included). */
	readonly nodes: number;
	/** Nodes merged into remainders: each one narrower than the threshold, counted where it was cut. */
	readonly pruned: number;
	/** Remainder nodes, and the samples they hold. */
	readonly hiddenNodes: number;
	readonly hiddenWeight: number;
	/** The weight below which nodes were merged. */
	readonly threshold: number;
}

/**
 * The flame tree a screen can show, built without the full tree: level by level, only the
 * samples still inside a wide enough node are followed deeper. Whatever is cut under a parent
 * becomes one remainder node (`FlameNode.hidden` = how many nodes it merges) whose value is their
 * weight, so every width and every self time stays exact. Work is bounded by the samples times
 * the depth at which their stacks become narrow, not by the size of the whole tree: a busy host's
 * quarter hour is millions of nodes, almost all narrower than a pixel.
 * Siblings are sorted by name and the remainder comes last, so equal profiles paint identically.
 */
export function prunedFlameTree(profile: Profile, options: PrunedFlameTreeOptions): PrunedFlameTree {
	const samples = profile.samples;
	let rootValue = 0;
	for (const sample of samples) rootValue += sample.weight;
	const baseThreshold = options.minFraction * rootValue;

	// Kept nodes in flat arrays; node 0 is the root. frame -1 marks the root and process levels.
	const parent: number[] = [-1];
	const frame: number[] = [-1];
	const value: number[] = [rootValue];
	const label: (string | undefined)[] = ['all'];
	const cutCount: number[] = [0];
	const cutWeight: number[] = [0];
	const keep = (p: number, f: number, v: number, name?: string) => {
		parent.push(p);
		frame.push(f);
		value.push(v);
		label.push(name);
		cutCount.push(0);
		cutWeight.push(0);
		return parent.length - 1;
	};

	// Level 0: processes by comm.
	const byComm = new Map<string, number>();
	for (const sample of samples) {
		const comm = sample.comm || '[unknown]';
		byComm.set(comm, (byComm.get(comm) ?? 0) + sample.weight);
	}
	const commNode = new Map<string, number>();
	for (const [comm, weight] of byComm) {
		if (weight >= baseThreshold && weight > 0) commNode.set(comm, keep(0, -1, weight, comm));
		else {
			cutCount[0]! += 1;
			cutWeight[0]! += weight;
		}
	}
	// The samples still inside a kept node, and that node.
	let active: number[] = [];
	let at: number[] = [];
	samples.forEach((sample, index) => {
		const node = commNode.get(sample.comm || '[unknown]');
		if (node !== undefined) {
			active.push(index);
			at.push(node);
		}
	});

	const frameCount = Math.max(1, profile.frames.length);
	let keys = new Float64Array(active.length);
	for (let depth = 0; active.length > 0; depth++) {
		// Children of this level: (parent node, frame) -> weight. A sample whose stack ends here
		// gets key -1: it is its node's self time and goes no deeper.
		const weightOf = new Map<number, number>();
		for (let i = 0; i < active.length; i++) {
			const sample = samples[active[i]!]!;
			if (depth >= sample.stack.length) {
				keys[i] = -1;
				continue;
			}
			const key = at[i]! * frameCount + sample.stack[depth]!;
			keys[i] = key;
			weightOf.set(key, (weightOf.get(key) ?? 0) + sample.weight);
		}
		// Kept children get their node id in place of their weight; cut ones are deleted.
		for (const [key, weight] of weightOf) {
			const p = Math.floor(key / frameCount);
			if (weight >= baseThreshold) weightOf.set(key, -1 - keep(p, key - p * frameCount, weight));
			else {
				cutCount[p]! += 1;
				cutWeight[p]! += weight;
				weightOf.delete(key);
			}
		}
		const nextActive: number[] = [];
		const nextAt: number[] = [];
		for (let i = 0; i < active.length; i++) {
			const key = keys[i]!;
			if (key < 0) continue;
			const node = weightOf.get(key);
			if (node !== undefined) {
				nextActive.push(active[i]!);
				nextAt.push(-1 - node);
			}
		}
		active = nextActive;
		at = nextAt;
		if (keys.length > 2 * active.length) keys = new Float64Array(active.length);
	}

	// Over the node budget: only the widest stay (kept nodes are those at least as wide as the bar,
	// and a child is never wider than its parent, so they form a tree); the rest join remainders.
	let threshold = baseThreshold;
	const count = parent.length;
	if (options.maxNodes !== undefined && count > options.maxNodes) {
		const widths = Float64Array.from(value).sort().reverse();
		const bar = widths[options.maxNodes]!;
		if (bar >= threshold) threshold = bar + Number.EPSILON * Math.max(1, bar);
	}

	const children: number[][] = Array.from({ length: count }, () => []);
	for (let n = 1; n < count; n++) children[parent[n]!]!.push(n);
	let pruned = 0;
	let hiddenNodes = 0;
	let hiddenWeight = 0;
	let nodes = 0;
	const convert = (node: number): FlameNode => {
		nodes += 1;
		const kept: FlameNode[] = [];
		let dropped = cutCount[node]!;
		let droppedWeight = cutWeight[node]!;
		for (const child of children[node]!) {
			if (value[child]! < threshold) {
				dropped += 1;
				droppedWeight += value[child]!;
			} else kept.push(convert(child));
		}
		kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
		if (dropped > 0) {
			kept.push({ name: HIDDEN_NODE_NAME, value: droppedWeight, children: [], hidden: dropped });
			pruned += dropped;
			hiddenNodes += 1;
			hiddenWeight += droppedWeight;
			nodes += 1;
		}
		if (frame[node]! < 0) return { name: label[node]!, value: value[node]!, children: kept };
		const f = profile.frames[frame[node]!];
		return { name: f?.name ?? '', value: value[node]!, children: kept, kind: f?.kind ?? 'user', module: f?.module ?? '' };
	};
	const root = convert(0);
	return { root, nodes, pruned, hiddenNodes, hiddenWeight, threshold };
}
