import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Frame } from './frame.ts';
import { toFlameTree } from './flame-tree.ts';
import { totalWeight } from './profile.ts';
import { ProfileBuilder } from './profile-builder.ts';
import { topFunctions } from './top-functions.ts';

const STACKS = 100_000;

// xorshift32: deterministic and exact in 32-bit integer arithmetic.
function random(seed: number): () => number {
	let state = seed;
	return () => {
		state ^= state << 13;
		state ^= state >>> 17;
		state ^= state << 5;
		return state >>> 0;
	};
}

const pool: Frame[] = [];
for (let i = 0; i < 5000; i++) {
	pool.push({ name: `fn_${i}`, module: `lib${i % 40}.so`, kind: i % 10 === 0 ? 'kernel' : 'user' });
}

/** Stacks drawn from a call tree with few callees per function, so prefixes are shared as in real programs. */
function treeStacks(): Frame[][] {
	const next = random(2463534242);
	const seen = new Set<string>();
	const stacks: Frame[][] = [];
	while (stacks.length < STACKS) {
		const depth = 6 + (next() % 26);
		const ids: number[] = [next() % 16];
		// A frame mostly calls one callee, sometimes one of 5 others.
		for (let d = 1; d < depth; d++) {
			const site = next() % 4 === 0 ? next() % 6 : 0;
			ids.push((ids[d - 1]! * 31 + site * 977 + d) % pool.length);
		}
		const key = ids.join(',');
		if (seen.has(key)) continue;
		seen.add(key);
		stacks.push(ids.map((id) => pool[id]!));
	}
	return stacks;
}

/** Independent random frames at every depth: almost nothing shared, the worst case for the tree. */
function randomStacks(): Frame[][] {
	const next = random(88172645);
	const stacks: Frame[][] = [];
	for (let i = 0; i < STACKS; i++) {
		const depth = 8 + (next() % 24);
		const stack: Frame[] = [pool[i % 64]!];
		for (let d = 1; d < depth; d++) stack.push(pool[next() % pool.length]!);
		stacks.push(stack);
	}
	return stacks;
}

for (const [shape, make] of [
	['call-tree', treeStacks],
	['unshared', randomStacks],
] as const) {
	test(`100k distinct ${shape} stacks build and turn into a flame tree`, (t) => {
		const stacks = make();
		const t0 = performance.now();
		const builder = new ProfileBuilder({ startMs: 0, durationMs: 10_000, frequencyHz: 99 });
		stacks.forEach((stack, i) => builder.appendSample(stack, 1 + (i % 3), { pid: 1000 + (i % 8), comm: `proc${i % 8}` }));
		const profile = builder.build();
		const t1 = performance.now();
		const { root, pruned } = toFlameTree(profile, { minFraction: 0.0001 });
		const t2 = performance.now();
		topFunctions(profile);
		const t3 = performance.now();
		// Timings are reported, not asserted: bench/flame-render.ts measures the server's flame tree.
		t.diagnostic(
			`100k ${shape} stacks: build ${(t1 - t0).toFixed(0)} ms, flame tree ${(t2 - t1).toFixed(0)} ms ` +
				`(${pruned} nodes pruned), top functions ${(t3 - t2).toFixed(0)} ms`,
		);

		assert.equal(profile.samples.length, STACKS);
		assert.equal(root.value, totalWeight(profile));
		assert.ok(pruned > 0);
	});
}
