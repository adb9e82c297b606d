import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IntMap } from './int-map.ts';

test('IntMap agrees with Map over growth, overwrites and misses', () => {
	const map = new IntMap(4);
	const reference = new Map<number, number>();
	let seed = 7;
	const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff);
	for (let i = 0; i < 20_000; i++) {
		// Half consecutive ids (as SQLite assigns them), half scattered ones.
		const key = i % 2 ? i : random() % 1_000_000;
		const value = random() % 1000;
		map.set(key, value);
		reference.set(key, value);
	}
	assert.equal(map.size, reference.size);
	for (const [key, value] of reference) assert.equal(map.get(key), value);
	for (let i = 0; i < 1000; i++) {
		const key = 2_000_000 + i;
		assert.equal(map.get(key), reference.get(key) ?? -1);
	}
	assert.equal(map.get(0x7fffffff), -1);
});

test('IntMap refuses keys it cannot hold', () => {
	const map = new IntMap();
	assert.throws(() => map.set(-1, 0), RangeError);
	assert.throws(() => map.set(2 ** 31, 0), RangeError);
	assert.throws(() => map.set(1.5, 0), RangeError);
});
