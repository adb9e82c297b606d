import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SLOW_REQUEST_MS, isSlowRequest } from './slow-request.ts';

test('slow: the threshold or more, or at or above a known p99', () => {
	assert.equal(SLOW_REQUEST_MS, 500);
	// The threshold itself is slow: "500 ms or more".
	assert.equal(isSlowRequest(500), true);
	assert.equal(isSlowRequest(499.9), false);
	// 200 to 500 ms is not slow on its own: its samples are not labelled with its id.
	assert.equal(isSlowRequest(250), false);
	assert.equal(isSlowRequest(150, 120), true);
	assert.equal(isSlowRequest(120, 120), true);
	assert.equal(isSlowRequest(100, 120), false);
	// An unknown p99 (none, or 0 from an empty window) makes nothing slow.
	assert.equal(isSlowRequest(100, null), false);
	assert.equal(isSlowRequest(0, 0), false);
	// The collector's own threshold (0 labels every request).
	assert.equal(isSlowRequest(0, undefined, 0), true);
	assert.equal(isSlowRequest(600, undefined, 1000), false);
});
