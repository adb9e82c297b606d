import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameTable } from './frame-table.ts';

test('equal frames get one id, differing kind or module does not', () => {
	const table = new FrameTable();
	const a = table.intern({ name: 'f', module: 'libx.so', kind: 'user' });
	const again = table.intern({ name: 'f', module: 'libx.so', kind: 'user' });
	const otherModule = table.intern({ name: 'f', module: 'liby.so', kind: 'user' });
	const otherKind = table.intern({ name: 'f', module: 'libx.so', kind: 'jit' });
	assert.equal(again, a);
	assert.notEqual(otherModule, a);
	assert.notEqual(otherKind, a);
	assert.notEqual(otherKind, otherModule);
	assert.equal(table.size, 3);
	assert.deepEqual(table.frame(otherModule), { name: 'f', module: 'liby.so', kind: 'user' });
	assert.equal(table.idOf({ name: 'f', module: 'libx.so', kind: 'jit' }), otherKind);
	assert.equal(table.idOf({ name: 'g', module: '', kind: 'user' }), undefined);
});

test('ids are dense from 0 and toArray is indexed by id', () => {
	const table = new FrameTable();
	const ids = ['a', 'b', 'a', 'c'].map((name) => table.intern({ name, module: '', kind: 'kernel' }));
	assert.deepEqual(ids, [0, 1, 0, 2]);
	const frames = table.toArray();
	assert.deepEqual(
		frames.map((f) => f.name),
		['a', 'b', 'c'],
	);
	table.intern({ name: 'd', module: '', kind: 'kernel' });
	assert.equal(frames.length, 3, 'toArray is a snapshot');
});

test('interning copies only the frame fields and unknown ids throw', () => {
	const table = new FrameTable();
	const withExtra = { name: 'f', module: 'm', kind: 'user' as const, address: 0x1234 };
	const id = table.intern(withExtra);
	assert.deepEqual(Object.keys(table.frame(id)).sort(), ['kind', 'module', 'name']);
	assert.throws(() => table.frame(1), RangeError);
});
