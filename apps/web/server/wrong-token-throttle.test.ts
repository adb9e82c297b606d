import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WrongTokenThrottle } from './wrong-token-throttle.ts';

test('an address waits once it has sent the limit of wrong tokens in a minute, and only that address', () => {
	const t = new WrongTokenThrottle({ perMinute: 2, maxAddresses: 10 });
	t.failed('a', 1000);
	assert.equal(t.waitSeconds('a', 1000), 0);
	t.failed('a', 2000);
	assert.equal(t.waitSeconds('a', 2000), 59);
	assert.equal(t.waitSeconds('b', 2000), 0);
	assert.equal(t.waitSeconds('a', 61_001), 0, 'the oldest failure left the minute');
});

test('past its bound of addresses the throttle forgets the one that failed longest ago, and counts it', () => {
	const t = new WrongTokenThrottle({ perMinute: 1, maxAddresses: 3 });
	for (const a of ['a', 'b', 'c', 'd', 'e']) t.failed(a, 1000);
	assert.equal(t.addresses, 3);
	assert.equal(t.evicted, 2);
	assert.equal(t.waitSeconds('a', 1000), 0, 'forgotten');
	assert.ok(t.waitSeconds('e', 1000) > 0);
});
