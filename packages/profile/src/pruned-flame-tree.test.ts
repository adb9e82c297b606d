import assert from 'node:assert/strict';
import { test } from 'node:test';
import { child, countNodes } from '../fixtures/flame-nodes.ts';
import { knownProfile } from '../fixtures/known-profile.ts';
import { HIDDEN_NODE_NAME, toFlameTree, type FlameNode } from './flame-tree.ts';
import { ProfileBuilder } from './profile-builder.ts';
import { prunedFlameTree } from './pruned-flame-tree.ts';

/** The tree without remainders, which `toFlameTree` with the same threshold must equal. */
function withoutRemainders(node: FlameNode): FlameNode {
	return { ...node, children: node.children.filter((c) => c.hidden === undefined).map(withoutRemainders) };
}

/** Where something was cut, children add up to their parent minus its own frame's self time. */
function checkExact(node: FlameNode, full: FlameNode): void {
	assert.equal(node.value, full.value, node.name);
	const sum = node.children.reduce((s, c) => s + c.value, 0);
	const fullSum = full.children.reduce((s, c) => s + c.value, 0);
	assert.equal(sum, fullSum, `${node.name}: children ${sum}, in the full tree ${fullSum}`);
	for (const c of node.children) {
		if (c.hidden !== undefined) continue;
		checkExact(
			c,
			full.children.find((f) => f.name === c.name && f.module === c.module)!,
		);
	}
}

test('what is cut under a parent is one remainder node, so every width stays exact', () => {
	const { root, pruned, hiddenNodes, hiddenWeight, nodes } = prunedFlameTree(knownProfile(), { minFraction: 0.2 });
	// 20% of 18 is 3.6: node (2) under the root and read (3) under main are cut.
	assert.equal(pruned, 2);
	assert.equal(hiddenNodes, 2);
	assert.equal(hiddenWeight, 5);
	assert.equal(nodes, countNodes(root));
	assert.deepEqual(
		root.children.map((c) => [c.name, c.value, c.hidden]),
		[
			['app', 16, undefined],
			[HIDDEN_NODE_NAME, 2, 1],
		],
	);
	const main = child(child(root, 'app'), 'main');
	assert.deepEqual(
		main.children.map((c) => [c.name, c.value, c.hidden]),
		[
			['fib', 4, undefined],
			['work', 9, undefined],
			[HIDDEN_NODE_NAME, 3, 1],
		],
	);
	checkExact(root, toFlameTree(knownProfile()).root);
});

test('without pruning it is the full tree, and the kept nodes are those toFlameTree keeps', () => {
	assert.deepEqual(prunedFlameTree(knownProfile(), { minFraction: 0 }).root, toFlameTree(knownProfile()).root);
	for (const minFraction of [0.01, 0.1, 0.2, 0.5]) {
		const pruned = prunedFlameTree(knownProfile(), { minFraction });
		assert.deepEqual(withoutRemainders(pruned.root), toFlameTree(knownProfile(), { minFraction }).root, `at ${minFraction}`);
	}
});

test('on a wide random profile it agrees with the full tree and stays within the node budget', () => {
	let seed = 7;
	const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
	const b = new ProfileBuilder({ startMs: 0, durationMs: 10_000, frequencyHz: 99 });
	for (let i = 0; i < 3000; i++) {
		const depth = 1 + Math.floor(random() * 12);
		const stack = Array.from({ length: depth }, (_, d) => ({
			name: `f${d}_${Math.floor(random() ** 3 * 6)}`,
			module: 'm',
			kind: 'user' as const,
		}));
		b.appendSample(stack, 1 + Math.floor(random() * 5), { pid: 1 + (i % 3), comm: ['a', 'b', 'c'][i % 3]! });
	}
	const profile = b.build();
	const full = toFlameTree(profile);
	const pruned = prunedFlameTree(profile, { minFraction: 0.002 });
	assert.deepEqual(withoutRemainders(pruned.root), toFlameTree(profile, { minFraction: 0.002 }).root);
	checkExact(pruned.root, full.root);

	const capped = prunedFlameTree(profile, { minFraction: 0, maxNodes: 200 });
	const drawn = countNodes(withoutRemainders(capped.root));
	assert.ok(drawn <= 200, `${drawn} frames kept`);
	assert.ok(drawn > 100, `${drawn} frames kept: the budget is used`);
	checkExact(capped.root, full.root);
	assert.equal(capped.root.value, full.root.value);
});
