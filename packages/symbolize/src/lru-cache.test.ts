import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LruCache } from './lru-cache.ts';

test('evicts least recently used by weight', () => {
	const c = new LruCache<string, number>(10, (v) => v);
	c.set('a', 4);
	c.set('b', 4);
	assert.equal(c.get('a'), 4); // a is now most recent
	c.set('c', 4); // 12 > 10: b goes
	assert.equal(c.has('b'), false);
	assert.equal(c.has('a'), true);
	assert.equal(c.weight, 8);
	assert.equal(c.evictions, 1);
	c.set('huge', 50); // heavier than the budget: kept alone
	assert.equal(c.size, 1);
	assert.equal(c.get('huge'), 50);
	c.delete('huge');
	assert.equal(c.weight, 0);
});
