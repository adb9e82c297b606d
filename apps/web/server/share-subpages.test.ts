import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPublicShareRead } from './share-routes.ts';

const A = 'rnQ-5DMsfEuBhZ6sLyMYmw';
const B = 'AAAAAAAAAAAAAAAAAAAAAA';
const none = new URLSearchParams();

test("a share's sandwich and a diff of two shares are public reads; the live diff and sandwich are not", () => {
	assert.ok(isPublicShareRead('GET', `/s/${A}/sandwich`, new URLSearchParams('fn=main')));
	assert.ok(isPublicShareRead('GET', `/s/${A}/diff/${B}`, none));
	assert.ok(isPublicShareRead('GET', '/trpc/diff.shares,sandwich.share', none));
	for (const path of [
		'/diff',
		'/sandwich',
		`/s/${A}/diff`,
		`/s/${A}/other`,
		`/s/${A}/diff/${B}/x`,
		'/trpc/diff.flame',
		'/trpc/sandwich.query',
		'/trpc/diff.shares,diff.flame',
	]) {
		assert.equal(isPublicShareRead('GET', path, none), false, path);
	}
	assert.equal(isPublicShareRead('POST', `/s/${A}/diff/${B}`, none), false);
});
