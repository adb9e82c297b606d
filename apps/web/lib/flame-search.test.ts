import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FlameNode } from '@firesight/profile';
import { combinedShare, matchesSearch, searchShare, selfValue } from './flame-search.ts';

const node = (name: string, value: number, children: FlameNode[] = []): FlameNode => ({ name, value, children });

test('share counts each sample once, even under nested matches', () => {
	// all(100) -> main(90) -> hot_a(60) -> hot_a_inner(20); main -> hot_b(30); other(10)
	const root = node('all', 100, [
		node('main', 90, [node('hot_a', 60, [node('hot_a_inner', 20)]), node('hot_b', 30)]),
		node('other', 10, [node('hot_a', 5)]),
	]);
	assert.deepEqual(searchShare(root, 'hot_a'), { matched: 65, total: 100, nodes: 3 });
	assert.deepEqual(searchShare(root, 'HOT_B'), { matched: 30, total: 100, nodes: 1 });
	assert.deepEqual(searchShare(root, 'nothing'), { matched: 0, total: 100, nodes: 0 });
});

test('an empty search matches nothing and self excludes children', () => {
	assert.equal(matchesSearch('main', '  '), false);
	assert.equal(selfValue(node('main', 90, [node('a', 60), node('b', 25)])), 5);
});

test('remainder nodes never match, and the hub’s count says how much of a match they hold', () => {
	const root = node('all', 100, [
		node('main', 90, [node('clear_page', 20), { name: 'clear_page', value: 30, children: [], hidden: 12 }]),
		{ name: 'clear_page', value: 10, children: [], hidden: 3 },
	]);
	const drawn = searchShare(root, 'clear_page');
	assert.deepEqual(drawn, { matched: 20, total: 100, nodes: 1 });
	// The hub found 27 samples with clear_page somewhere: 7 of them are in remainders.
	assert.deepEqual(combinedShare({ matched: 27, total: 100 }, drawn, null), { matched: 27, total: 100, nodes: 1, hidden: 7 });
	assert.equal(combinedShare({ matched: 27, total: 90 }, drawn, 'main').scope, 'main');
});
