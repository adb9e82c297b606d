import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sessions } from './sessions.ts';

test('sessions expire, are random, and past the cap the oldest is forgotten', () => {
	const sessions = new Sessions({ ttlMs: 1000, max: 3 });
	const a = sessions.create(0);
	assert.ok(a.length >= 40);
	assert.ok(sessions.valid(a, 999));
	assert.ok(!sessions.valid(a, 1000), 'expired');
	const [b, c, d, e] = [sessions.create(0), sessions.create(0), sessions.create(0), sessions.create(0)];
	assert.equal(new Set([b, c, d, e]).size, 4);
	assert.ok(!sessions.valid(b, 1), 'the oldest went when the fourth came');
	for (const id of [c, d, e]) assert.ok(sessions.valid(id, 1));
	sessions.delete(c);
	assert.ok(!sessions.valid(c, 1));
	assert.ok(!sessions.valid(undefined) && !sessions.valid(''));
});
