import { type Frame, type FrameKind, frameKey } from './frame.ts';
import { type Profile, totalWeight } from './profile.ts';

/**
 * A node of a diff flame graph. Widths are normalized: each side counts as its share of its own
 * total, so a baseline of 1,000 samples and a comparison of 3,000 compare as fractions (as
 * Pyroscope does), and a frame present on one side only still has a width.
 */
export interface DiffNode {
	readonly name: string;
	/** Baseline share plus comparison share (each 0..1 of its side's total); 2 at the root. */
	readonly value: number;
	/** Samples under this node (itself included) on each side, as counted. */
	readonly baseline: number;
	readonly comparison: number;
	readonly children: DiffNode[];
	/** Absent on the root and process levels, which are not frames. */
	readonly kind?: FrameKind;
	readonly module?: string;
}

export interface DiffOptions {
	/** Drop nodes whose value is below this fraction of the root's (0..1). Default 0: keep all. */
	readonly minFraction?: number;
	/** Put a process (comm) level under the root, as the flame graph does. Default true. */
	readonly byProcess?: boolean;
}

export interface DiffTree {
	/** Named "all"; its children are processes (by comm) when `byProcess`, else root frames. */
	readonly root: DiffNode;
	/** Nodes dropped by `minFraction`, counting whole dropped subtrees. */
	readonly pruned: number;
	readonly baselineTotal: number;
	readonly comparisonTotal: number;
}

/**
 * The change of a node's share between the sides, relative to the baseline share: +1 when the
 * share doubled, -1 when it is gone, Infinity when the baseline never had it, 0 when neither did.
 */
export function normalizedChange(baseline: number, baselineTotal: number, comparison: number, comparisonTotal: number): number {
	const before = baselineTotal > 0 ? baseline / baselineTotal : 0;
	const after = comparisonTotal > 0 ? comparison / comparisonTotal : 0;
	if (before === 0) return after === 0 ? 0 : Number.POSITIVE_INFINITY;
	return (after - before) / before;
}

/**
 * Merges a baseline and a comparison profile into one tree whose nodes carry both sides' counts.
 * Frames are matched by identity (kind, module, name, and source when known) along equal paths.
 */
export function diffProfiles(baseline: Profile, comparison: Profile, options: DiffOptions = {}): DiffTree {
	const byProcess = options.byProcess ?? true;
	// One trie for both sides: node 0 is the root; children found through one Map per node, keyed
	// by a shared frame id (>= 0) or a process id (< 0).
	const keys = new Map<string, number>();
	const frameOfKey: (Frame | null)[] = [];
	const comms: string[] = [];
	const keyOf = (key: string, frame: Frame | null): number => {
		let id = keys.get(key);
		if (id === undefined) {
			id = frameOfKey.length;
			keys.set(key, id);
			frameOfKey.push(frame);
		}
		return id;
	};
	const parent: number[] = [-1];
	const nodeKey: number[] = [-1];
	const base: number[] = [0];
	const comp: number[] = [0];
	const childIndex: (Map<number, number> | undefined)[] = [undefined];
	const childOf = (node: number, key: number): number => {
		let map = childIndex[node];
		if (!map) childIndex[node] = map = new Map();
		let child = map.get(key);
		if (child === undefined) {
			child = parent.length;
			parent.push(node);
			nodeKey.push(key);
			base.push(0);
			comp.push(0);
			childIndex.push(undefined);
			map.set(key, child);
		}
		return child;
	};

	const add = (profile: Profile, counts: number[]) => {
		const ids = profile.frames.map((frame) => keyOf(frameKey(frame), frame));
		for (const sample of profile.samples) {
			let node = 0;
			counts[0]! += sample.weight;
			if (byProcess) {
				const comm = sample.comm || '[unknown]';
				node = childOf(node, keyOf(`\u0001${comm}`, null));
				comms[nodeKey[node]!] = comm;
				counts[node]! += sample.weight;
			}
			for (const frameId of sample.stack) {
				const key = ids[frameId];
				if (key === undefined) throw new RangeError(`sample references unknown frame id ${frameId}`);
				node = childOf(node, key);
				counts[node]! += sample.weight;
			}
		}
	};
	add(baseline, base);
	add(comparison, comp);

	const baselineTotal = totalWeight(baseline);
	const comparisonTotal = totalWeight(comparison);
	const share = (node: number) =>
		(baselineTotal > 0 ? base[node]! / baselineTotal : 0) + (comparisonTotal > 0 ? comp[node]! / comparisonTotal : 0);
	const threshold = (options.minFraction ?? 0) * share(0);
	const subtree = new Int32Array(parent.length).fill(1);
	for (let n = parent.length - 1; n > 0; n--) subtree[parent[n]!]! += subtree[n]!;

	let pruned = 0;
	const convert = (node: number): DiffNode => {
		const kept: DiffNode[] = [];
		for (const child of childIndex[node]?.values() ?? []) {
			if (share(child) < threshold) pruned += subtree[child]!;
			else kept.push(convert(child));
		}
		kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
		const numbers = { value: share(node), baseline: base[node]!, comparison: comp[node]!, children: kept };
		if (node === 0) return { name: 'all', ...numbers };
		const frame = frameOfKey[nodeKey[node]!];
		if (!frame) return { name: comms[nodeKey[node]!] ?? '[unknown]', ...numbers };
		return { name: frame.name, ...numbers, kind: frame.kind, module: frame.module };
	};
	return { root: convert(0), pruned, baselineTotal, comparisonTotal };
}
