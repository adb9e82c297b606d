import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HIDDEN_NODE_NAME, type FlameNode } from './flame-tree.ts';
import type { Frame } from './frame.ts';
import type { Profile, ProfileSample } from './profile.ts';
import { prunedFlameTree, type PrunedFlameTree, type PrunedFlameTreeOptions } from './pruned-flame-tree.ts';

/*
 * prunedFlameTree reads flattened stacks grouped by node; the builder it replaced followed each
 * sample through a (node, frame) map level by level. Kept here as the reference: on random
 * profiles both must give the same tree, node for node, in the same order.
 */

function rng(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state * 1664525 + 1013904223) >>> 0;
		return state / 2 ** 32;
	};
}

function randomProfile(seed: number): Profile {
	const random = rng(seed);
	const pick = (n: number) => Math.floor(random() * n);
	const frameCount = 1 + pick(40);
	// Few names over several modules, so siblings often share a name and their order matters.
	const frames: Frame[] = Array.from({ length: frameCount }, (_, i) => ({
		name: `fn${pick(Math.max(1, frameCount / 3))}`,
		module: `m${i % 3}`,
		kind: (['user', 'kernel', 'jit'] as const)[pick(3)]!,
	}));
	const comms = ['node', 'curl', '', 'postgres', 'kworker/0:1'].slice(0, 1 + pick(5));
	const samples: ProfileSample[] = [];
	const count = pick(300);
	// A few hot stacks the rest branch off, as real profiles do, so some nodes stay wide deep down.
	const hot = Array.from({ length: 1 + pick(4) }, () => Array.from({ length: pick(30) }, () => pick(frameCount)));
	for (let i = 0; i < count; i++) {
		const base = hot[pick(hot.length)]!;
		const keep = pick(base.length + 1);
		const stack = [...base.slice(0, keep), ...Array.from({ length: pick(8) }, () => pick(frameCount))];
		samples.push({ stack, weight: 1 + pick(random() < 0.1 ? 500 : 5), pid: 1 + pick(4), comm: comms[pick(comms.length)]! });
	}
	return { startMs: 0, durationMs: 10_000, frequencyHz: 99, frames, samples };
}

test('on random profiles it builds the same tree as the reference builder', () => {
	for (let seed = 1; seed <= 400; seed++) {
		const profile = randomProfile(seed);
		const random = rng(seed * 31);
		const total = profile.samples.reduce((sum, s) => sum + s.weight, 0);
		const options: PrunedFlameTreeOptions = {
			// Half the time a whole number of samples, so some nodes sit exactly on the threshold.
			minFraction:
				random() < 0.5 ? [0, 0.001, 0.01, 0.05, 0.3][Math.floor(random() * 5)]! : Math.floor(1 + random() * 8) / Math.max(1, total),
			...(random() < 0.5 ? { maxNodes: 1 + Math.floor(random() * 60) } : {}),
		};
		const expected: PrunedFlameTree = referencePrunedFlameTree(profile, options);
		assert.deepEqual(prunedFlameTree(profile, options), expected, `seed ${seed}, ${JSON.stringify(options)}`);
	}
});

test('an empty profile is the root alone', () => {
	const profile: Profile = { startMs: 0, durationMs: 1, frequencyHz: 99, frames: [], samples: [] };
	assert.deepEqual(prunedFlameTree(profile, { minFraction: 0.01 }), referencePrunedFlameTree(profile, { minFraction: 0.01 }));
	assert.equal(prunedFlameTree(profile, { minFraction: 0.01 }).root.children.length, 0);
});

function referencePrunedFlameTree(profile: Profile, options: PrunedFlameTreeOptions): PrunedFlameTree {
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
