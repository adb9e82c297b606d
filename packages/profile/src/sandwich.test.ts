import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Frame } from './frame.ts';
import type { FlameNode } from './flame-tree.ts';
import { ProfileBuilder } from './profile-builder.ts';
import { sandwich } from './sandwich.ts';

const fn = (name: string, module = 'app'): Frame => ({ name, module, kind: 'user' });

/**
 *   main;a;f;g    3
 *   main;b;f      2   (f is the leaf: self)
 *   main;f;f;h    4   (recursion: counted once)
 *   main;x        5   (no f)
 *   main;lib:f    6   (an f of another module)
 */
function profile() {
	const b = new ProfileBuilder({ startMs: 0, durationMs: 1000, frequencyHz: 100 });
	const labels = { pid: 1, comm: 'app' };
	for (const [stack, weight] of [
		['main;a;f;g', 3],
		['main;b;f', 2],
		['main;f;f;h', 4],
		['main;x', 5],
	] as const) {
		b.appendSample(
			stack.split(';').map((n) => fn(n)),
			weight,
			labels,
		);
	}
	b.appendSample([fn('main'), fn('f', 'lib.so')], 6, labels);
	return b.build();
}

const shape = (node: FlameNode): unknown => [node.name, node.value, ...node.children.map(shape)];

test('callers above and callees below, merged over every place, recursion once per stack', () => {
	const s = sandwich(profile(), { name: 'f', module: 'app' });
	assert.ok(s);
	assert.equal(s.total, 9, '3 + 2 + 4, not 13');
	assert.equal(s.self, 2);
	assert.deepEqual(shape(s.callers), ['f', 9, ['a', 3, ['main', 3]], ['b', 2, ['main', 2]], ['main', 4]]);
	assert.deepEqual(shape(s.callees), ['f', 9, ['f', 4, ['h', 4]], ['g', 3]]);
	assert.equal(s.callers.module, 'app');
});

test('without a module every frame of that name is the function', () => {
	const s = sandwich(profile(), { name: 'f' });
	assert.ok(s);
	assert.equal(s.total, 15);
	assert.equal(s.self, 8);
	assert.deepEqual(shape(s.callers), ['f', 15, ['a', 3, ['main', 3]], ['b', 2, ['main', 2]], ['main', 10]]);
});

test('a function no sample has is null', () => {
	assert.equal(sandwich(profile(), { name: 'nowhere' }), null);
	assert.equal(sandwich(profile(), { name: 'f', module: 'other' }), null);
});
