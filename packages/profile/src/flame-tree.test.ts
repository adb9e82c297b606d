import assert from 'node:assert/strict';
import { test } from 'node:test';
import { child, countNodes } from '../fixtures/flame-nodes.ts';
import { knownProfile } from '../fixtures/known-profile.ts';
import { type FlameNode, toFlameTree } from './flame-tree.ts';

function checkTotals(node: FlameNode): void {
	const sum = node.children.reduce((s, c) => s + c.value, 0);
	assert.ok(sum <= node.value, `${node.name}: children ${sum} exceed total ${node.value}`);
	node.children.forEach(checkTotals);
}

test('values are totals: root "all", then comm, then frames root first', () => {
	const { root, pruned } = toFlameTree(knownProfile());
	assert.equal(pruned, 0);
	assert.equal(root.name, 'all');
	assert.equal(root.value, 18);
	assert.deepEqual(
		root.children.map((c) => [c.name, c.value]),
		[
			['app', 16],
			['node', 2],
		],
	);
	const main = child(child(root, 'app'), 'main');
	assert.equal(main.value, 16);
	assert.deepEqual(
		main.children.map((c) => [c.name, c.value]),
		[
			['fib', 4],
			['read', 3],
			['work', 9],
		],
	);
	// Both pids of app share the comm node: 7 + 1 under compute.
	assert.equal(child(child(main, 'work'), 'compute').value, 8);
	const ksys = child(child(child(main, 'read'), 'entry_SYSCALL_64'), 'ksys_read');
	assert.equal(ksys.kind, 'kernel');
	assert.equal(ksys.module, '[kernel.kallsyms]');
	assert.equal(child(root, 'app').kind, undefined, 'process level is not a frame');
	assert.equal(countNodes(root), 14);
	checkTotals(root);
});

test('pruning drops narrow subtrees, counts them, and keeps their weight in the parent', () => {
	const full = toFlameTree(knownProfile());
	// 20% of 18 is 3.6: node (2) with its 2 frames and read (3) with its 2 kernel frames go.
	const { root, pruned } = toFlameTree(knownProfile(), { minFraction: 0.2 });
	assert.equal(pruned, 6);
	assert.equal(countNodes(root), countNodes(full.root) - pruned);
	assert.equal(root.value, 18);
	assert.deepEqual(
		root.children.map((c) => c.name),
		['app'],
	);
	const main = child(child(root, 'app'), 'main');
	assert.equal(main.value, 16, 'total unchanged');
	assert.deepEqual(
		main.children.map((c) => c.name),
		['fib', 'work'],
	);
	checkTotals(root);
	assert.equal(toFlameTree(knownProfile(), { minFraction: 1.1 }).pruned, 13, 'all but the root');
});
