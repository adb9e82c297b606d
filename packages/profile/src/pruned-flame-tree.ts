import type { FlameNode } from './flame-tree.ts';
import { HIDDEN_NODE_NAME } from './flame-tree.ts';
import type { Profile } from './profile.ts';
import { STEP_SAMPLES, runSteps } from './steps.ts';

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
	return runSteps(prunedFlameTreeSteps(profile, options));
}

/**
 * `prunedFlameTree` in steps: the generator pauses (yields) after about STEP_SAMPLES samples'
 * worth of work, so a server can let its event loop run between steps; a busy host's hour takes
 * a second or more in one go. Its return value is the tree.
 */
export function* prunedFlameTreeSteps(profile: Profile, options: PrunedFlameTreeOptions): Generator<void, PrunedFlameTree> {
	const samples = profile.samples;
	const weights = new Float64Array(samples.length);
	let rootValue = 0;
	for (let i = 0; i < samples.length; i++) rootValue += weights[i] = samples[i]!.weight;
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

	// The samples still inside a kept node, grouped by that node: group g holds
	// order[groupStart[g] .. groupStart[g + 1]) and is node groupNode[g]. Within a group samples
	// stay in profile order, so children are met (and numbered) in the order the samples first
	// reach them, whatever the grouping. Each level is one counting pass per group over typed
	// arrays indexed by frame id: no hashing, no per-node objects.
	let order = new Int32Array(samples.length);
	let next = new Int32Array(samples.length);
	let groupNode: number[];
	let groupStart: number[] = [0];
	{
		const slotOf = new Map<number, number>();
		const counts: number[] = [];
		const nodes: number[] = [];
		const slots = new Int32Array(samples.length);
		for (let i = 0; i < samples.length; i++) {
			const node = commNode.get(samples[i]!.comm || '[unknown]');
			if (node === undefined) {
				slots[i] = -1;
				continue;
			}
			let slot = slotOf.get(node);
			if (slot === undefined) {
				slot = nodes.push(node) - 1;
				counts.push(0);
				slotOf.set(node, slot);
			}
			counts[slot]! += 1;
			slots[i] = slot;
		}
		const fill: number[] = [];
		let at = 0;
		for (let g = 0; g < nodes.length; g++) {
			fill.push(at);
			at += counts[g]!;
			groupStart.push(at);
		}
		groupNode = nodes;
		for (let i = 0; i < samples.length; i++) if (slots[i]! >= 0) order[fill[slots[i]!]!++] = i;
	}

	// Stacks copied once into one array: each level reads one frame of every sample still inside
	// a kept node, and scattered stack arrays cost a cache miss or two per read, which dominated.
	let frameTotal = 0;
	for (const sample of samples) frameTotal += sample.stack.length;
	const flat = new Int32Array(frameTotal);
	const start = new Int32Array(samples.length + 1);
	for (let i = 0, at = 0; i < samples.length; i++) {
		const stack = samples[i]!.stack;
		start[i] = at;
		for (let d = 0; d < stack.length; d++) flat[at++] = stack[d]!;
		start[i + 1] = at;
	}
	yield;
	// The frame each sample of `order` is at on this level, or -1 past its stack's end.
	const here = new Int32Array(samples.length);
	const frameCount = profile.frames.length;
	const weightOf = new Float64Array(frameCount);
	const countOf = new Int32Array(frameCount);
	// child node of a frame under the current group, or -1 when cut; valid while seenIn == group stamp.
	const childOf = new Int32Array(frameCount);
	const fillOf = new Int32Array(frameCount);
	const seenIn = new Int32Array(frameCount);
	let stamp = 0;
	const touched = new Int32Array(frameCount);
	let work = 0;
	for (let depth = 0; groupNode.length > 0; depth++) {
		if (work >= STEP_SAMPLES) {
			work = 0;
			yield;
		}
		work += groupStart[groupStart.length - 1]!;
		const nextNode: number[] = [];
		const nextStart: number[] = [0];
		let out = 0;
		for (let g = 0; g < groupNode.length; g++) {
			const node = groupNode[g]!;
			const from = groupStart[g]!;
			const to = groupStart[g + 1]!;
			stamp += 1;
			let seen = 0;
			for (let i = from; i < to; i++) {
				const s = order[i]!;
				const at = start[s]! + depth;
				// A sample whose stack ends here is its node's self time and goes no deeper.
				if (at >= start[s + 1]!) {
					here[i] = -1;
					continue;
				}
				const f = flat[at]!;
				here[i] = f;
				if (seenIn[f] !== stamp) {
					seenIn[f] = stamp;
					weightOf[f] = 0;
					countOf[f] = 0;
					touched[seen++] = f;
				}
				weightOf[f]! += weights[s]!;
				countOf[f]! += 1;
			}
			for (let t = 0; t < seen; t++) {
				const f = touched[t]!;
				const weight = weightOf[f]!;
				if (weight >= baseThreshold) {
					const child = keep(node, f, weight);
					childOf[f] = child;
					fillOf[f] = out;
					nextNode.push(child);
					out += countOf[f]!;
					nextStart.push(out);
				} else {
					childOf[f] = -1;
					cutCount[node]! += 1;
					cutWeight[node]! += weight;
				}
			}
			for (let i = from; i < to; i++) {
				const f = here[i]!;
				if (f >= 0 && childOf[f]! >= 0) next[fillOf[f]!++] = order[i]!;
			}
		}
		[order, next] = [next, order];
		groupNode = nextNode;
		groupStart = nextStart;
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
