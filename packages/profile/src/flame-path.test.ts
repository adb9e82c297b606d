import assert from 'node:assert/strict';
import { test } from 'node:test';
import { knownProfile } from '../fixtures/known-profile.ts';
import { findNode, graftSubtree, samplesUnder } from './flame-path.ts';
import { toFlameTree } from './flame-tree.ts';
import { prunedFlameTree } from './pruned-flame-tree.ts';
import { totalWeight } from './profile.ts';

test('samplesUnder keeps the samples of the comm whose stack starts with the path', () => {
	const profile = knownProfile();
	assert.equal(totalWeight(samplesUnder(profile, ['app'])), 16);
	assert.equal(totalWeight(samplesUnder(profile, ['app', 'main', 'work'])), 9, 'compute 8 and work itself 1');
	assert.equal(totalWeight(samplesUnder(profile, ['app', 'main', 'work', 'compute'])), 8);
	assert.equal(totalWeight(samplesUnder(profile, ['node', 'main'])), 0, 'main is app’s, not node’s');
	assert.equal(totalWeight(samplesUnder(profile, [])), 18);
});

test('the subtree at a path equals that node of the whole tree, at full resolution', () => {
	const profile = knownProfile();
	const path = ['app', 'main'];
	const whole = findNode(toFlameTree(profile).root, path);
	const sub = findNode(toFlameTree(samplesUnder(profile, path)).root, path);
	assert.deepEqual(sub, whole);
	assert.equal(findNode(toFlameTree(profile).root, ['app', 'nope']), null);
});

test('graftSubtree swaps the node at the path and shares everything else', () => {
	const profile = knownProfile();
	const pruned = prunedFlameTree(profile, { minFraction: 0.2 }).root;
	const path = ['app', 'main'];
	const detail = findNode(toFlameTree(samplesUnder(profile, path)).root, path)!;
	const grafted = graftSubtree(pruned, path, detail);
	assert.notEqual(grafted, pruned);
	assert.equal(findNode(grafted, path), detail);
	assert.ok(findNode(grafted, ['app', 'main', 'read', 'entry_SYSCALL_64']), 'the pruned read is back');
	assert.equal(findNode(pruned, ['app', 'main', 'read']), null, 'the input is left as it was');
	assert.equal(grafted.children[1], pruned.children[1], 'siblings off the path are shared');
	assert.equal(graftSubtree(pruned, ['app', 'nope'], detail), pruned);
});
