import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HIDDEN_NODE_NAME, type FlameNode } from '@firesight/profile';
import { hitTest, layoutFlame, pathOf, resolvePath, zoomTargetOf, type FlameLayout, type FlameRect } from './flame-layout.ts';

const node = (name: string, value: number, children: FlameNode[] = [], extra: Partial<FlameNode> = {}): FlameNode => ({
	name,
	value,
	children,
	...extra,
});

/** all(1000) → node(600) → [main(500) → [hot(300), cold(150), remainder(50)], remainder(100)]; dd(400) → read(400). */
const tree: FlameNode = node('all', 1000, [
	node('node', 600, [
		node('main', 500, [
			node('hot', 300, [], { kind: 'user' }),
			node('cold', 150, [], { kind: 'user' }),
			node(HIDDEN_NODE_NAME, 50, [], { hidden: 7 }),
		]),
		node(HIDDEN_NODE_NAME, 100, [], { hidden: 40 }),
	]),
	node('dd', 400, [node('read', 400, [], { kind: 'kernel' })]),
]);

const byName = (layout: FlameLayout, name: string): FlameRect[] => layout.rects.filter((r) => r.node.name === name);
const one = (layout: FlameLayout, name: string): FlameRect => {
	const found = byName(layout, name);
	assert.equal(found.length, 1, name);
	return found[0]!;
};

test('widths are in proportion to samples, and children sit left to right inside their parent', () => {
	const layout = layoutFlame(tree, { width: 1000 });
	assert.equal(one(layout, 'all').width, 1000);
	assert.equal(one(layout, 'node').width, 600);
	assert.equal(one(layout, 'dd').x, 600);
	assert.equal(one(layout, 'dd').width, 400);
	assert.equal(one(layout, 'hot').width, 300);
	assert.equal(one(layout, 'cold').x, 300);
	assert.equal(one(layout, 'read').x, 600);
	// A different width scales every rect alike.
	const half = layoutFlame(tree, { width: 500 });
	assert.equal(one(half, 'hot').width, 150);
	assert.equal(one(half, 'dd').x, 300);
	assert.equal(layout.rects.length, 9);
	assert.equal(layout.skipped, 0);
	assert.deepEqual(
		layout.rows.map((row) => row.map((i) => layout.rects[i]!.node.name)),
		[['all'], ['node', 'dd'], ['main', HIDDEN_NODE_NAME, 'read'], ['hot', 'cold', HIDDEN_NODE_NAME]],
	);
});

test('remainder nodes are drawn at their exact width and counted, so the row adds up to the parent', () => {
	const layout = layoutFlame(tree, { width: 1000 });
	assert.equal(layout.remainders, 2);
	const rests = layout.rects.filter((r) => r.remainder);
	assert.deepEqual(
		rests.map((r) => [r.x, r.width]),
		[
			[450, 50],
			[500, 100],
		],
	);
	const main = one(layout, 'main');
	const under = layout.rects.filter((r) => layout.rects[r.parent] === main);
	assert.equal(
		under.reduce((sum, r) => sum + r.width, 0),
		main.width,
	);
});

test('frames narrower than the minimum width are not drawn, nor their children, and are counted', () => {
	const layout = layoutFlame(tree, { width: 10, minWidth: 1 });
	// At 10 px: hot 3, cold 1.5, remainder under main 0.5 (dropped), node's remainder 1.
	assert.deepEqual(
		layout.rects.map((r) => r.node.name),
		['all', 'node', 'main', 'hot', 'cold', HIDDEN_NODE_NAME, 'dd', 'read'],
	);
	assert.equal(layout.skipped, 1);
	assert.equal(layout.remainders, 1);
	const tiny = layoutFlame(tree, { width: 10, minWidth: 5 });
	assert.deepEqual(
		tiny.rects.map((r) => r.node.name),
		['all', 'node', 'main'],
	);
});

test('zoomed, the frame and its ancestors span the width, its siblings go, and its children scale up', () => {
	const layout = layoutFlame(tree, { width: 1000, zoom: ['node', 'main'] });
	assert.deepEqual(layout.zoom, ['node', 'main']);
	assert.equal(layout.rects[layout.focus]!.node.name, 'main');
	for (const name of ['all', 'node', 'main']) {
		assert.equal(one(layout, name).x, 0, name);
		assert.equal(one(layout, name).width, 1000, name);
	}
	assert.equal(one(layout, 'all').ancestor, true);
	assert.equal(one(layout, 'node').ancestor, true);
	assert.equal(one(layout, 'main').ancestor, false);
	assert.equal(one(layout, 'hot').width, 600);
	assert.equal(one(layout, 'cold').x, 600);
	assert.equal(one(layout, 'cold').width, 300);
	assert.equal(byName(layout, 'dd').length, 0, 'a sibling of an ancestor is not drawn');
	// node's own remainder sits beside main: not drawn either.
	assert.equal(layout.remainders, 1);
	assert.equal(layout.skipped, 3);
});

test('a zoom path not in the tree (or through a remainder) leaves the graph unzoomed', () => {
	for (const zoom of [['node', 'nope'], ['node', HIDDEN_NODE_NAME], []]) {
		const layout = layoutFlame(tree, { width: 1000, zoom });
		assert.deepEqual(layout.zoom, [], zoom.join('/'));
		assert.equal(layout.focus, 0);
		assert.equal(one(layout, 'dd').width, 400);
	}
	assert.equal(resolvePath(tree, ['dd', 'read'])?.at(-1)?.kind, 'kernel');
});

test('hit-testing finds the rect under a point, and nothing in the gaps', () => {
	const layout = layoutFlame(tree, { width: 1000 });
	assert.equal(hitTest(layout, 0, 0)?.node.name, 'all');
	assert.equal(hitTest(layout, 999.9, 0)?.node.name, 'all');
	assert.equal(hitTest(layout, 1000, 0), null);
	assert.equal(hitTest(layout, 599, 1)?.node.name, 'node');
	assert.equal(hitTest(layout, 600, 1)?.node.name, 'dd');
	assert.equal(hitTest(layout, 299.5, 3)?.node.name, 'hot');
	assert.equal(hitTest(layout, 300, 3)?.node.name, 'cold');
	assert.equal(hitTest(layout, 460, 3)?.remainder, true);
	// Row 3 has nothing under dd; row 4 does not exist.
	assert.equal(hitTest(layout, 700, 3), null);
	assert.equal(hitTest(layout, 10, 4), null);
	assert.equal(hitTest(layout, -1, 1), null);
	// Every rect is found at its own middle, and knows its index.
	for (const [i, rect] of layout.rects.entries()) {
		assert.equal(hitTest(layout, rect.x + rect.width / 2, rect.depth), rect);
		assert.equal(rect.index, i);
	}
});

test('a click zooms to the frame, to a remainder’s parent, or out from the root', () => {
	const layout = layoutFlame(tree, { width: 1000 });
	assert.deepEqual(pathOf(layout, one(layout, 'hot')), ['node', 'main', 'hot']);
	assert.deepEqual(zoomTargetOf(layout, one(layout, 'hot')), ['node', 'main', 'hot']);
	const rest = layout.rects.find((r) => r.remainder && r.depth === 3)!;
	assert.deepEqual(zoomTargetOf(layout, rest), ['node', 'main']);
	assert.equal(zoomTargetOf(layout, one(layout, 'all')), null);
	// Zoomed, an ancestor zooms back out to itself.
	const zoomed = layoutFlame(tree, { width: 1000, zoom: ['node', 'main'] });
	assert.deepEqual(zoomTargetOf(zoomed, one(zoomed, 'node')), ['node']);
});

test('an empty profile lays out its root alone, with nothing to divide by', () => {
	const layout = layoutFlame(node('all', 0), { width: 800 });
	assert.equal(layout.rects.length, 1);
	assert.equal(hitTest(layout, 5, 0)?.node.name, 'all');
});
