import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HIDDEN_NODE_NAME, type FlameNode } from '@firesight/profile';
import { flameFills, HIDDEN_FILL, HIGHLIGHT } from './flame-fills.ts';
import { layoutFlame } from './flame-layout.ts';
import { kindColor, moduleColor } from './frame-colors.ts';

const tree: FlameNode = {
	name: 'all',
	value: 100,
	children: [
		{
			name: 'app',
			value: 100,
			children: [
				{
					name: 'read_loop',
					value: 60,
					kind: 'user',
					module: 'app',
					children: [{ name: 'ksys_read', value: 60, kind: 'kernel', module: '[kernel.kallsyms]', children: [] }],
				},
				{ name: HIDDEN_NODE_NAME, value: 40, hidden: 9, children: [] },
			],
		},
	],
};
const layout = layoutFlame(tree, { width: 1000 });
const fillOf = (fills: string[], name: string) => fills[layout.rects.findIndex((r) => r.node.name === name)];

test('frames take their kind family, remainders grey, and the root and process levels neither', () => {
	const { fills, matches } = flameFills(layout, { search: '', colorMode: 'kind' });
	assert.equal(matches, 0);
	assert.equal(fillOf(fills, 'read_loop'), kindColor('user', 'read_loop'));
	assert.equal(fillOf(fills, 'ksys_read'), kindColor('kernel', 'ksys_read'));
	assert.equal(fillOf(fills, HIDDEN_NODE_NAME), HIDDEN_FILL);
	for (const name of ['all', 'app']) assert.ok(!fillOf(fills, name)?.startsWith('hsl'), name);
	assert.equal(fillOf(flameFills(layout, { search: '', colorMode: 'module' }).fills, 'ksys_read'), moduleColor('[kernel.kallsyms]'));
});

test('a search highlights matching frames, never a remainder or the root, with the shared matching rule', () => {
	const { fills, matches } = flameFills(layout, { search: '  READ ', colorMode: 'kind' });
	assert.equal(matches, 2);
	assert.equal(fillOf(fills, 'read_loop'), HIGHLIGHT);
	assert.equal(fillOf(fills, 'ksys_read'), HIGHLIGHT);
	// "narrow" is in the remainder's name, "all" in the root's: neither is a frame.
	assert.equal(flameFills(layout, { search: 'narrow', colorMode: 'kind' }).matches, 0);
	assert.equal(flameFills(layout, { search: 'all', colorMode: 'kind' }).matches, 0);
});

test('colorOf overrides the palette and is given the palette colour', () => {
	const seen: string[] = [];
	const { fills } = flameFills(layout, {
		search: '',
		colorMode: 'kind',
		colorOf: (node, original) => {
			seen.push(original);
			return node.name === 'ksys_read' ? 'rgb(200, 0, 0)' : undefined;
		},
	});
	assert.equal(fillOf(fills, 'ksys_read'), 'rgb(200, 0, 0)');
	assert.equal(fillOf(fills, 'read_loop'), kindColor('user', 'read_loop'));
	assert.ok(seen.includes(kindColor('kernel', 'ksys_read')));
});
