import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactHeaders, redactUrl, REDACTED } from './redaction.ts';

test('credential headers lose their values whatever their case; others stay', () => {
	const out = redactHeaders([
		['Authorization', 'Bearer abc'],
		['proxy-authorization', 'Basic xyz'],
		['COOKIE', 'sid=1'],
		['Set-Cookie', 'sid=2; HttpOnly'],
		['Content-Type', 'text/plain'],
	]);
	assert.deepEqual(out.map(([, v]) => v), [REDACTED, REDACTED, REDACTED, REDACTED, 'text/plain']);
	assert.deepEqual(out.map(([k]) => k), ['Authorization', 'proxy-authorization', 'COOKIE', 'Set-Cookie', 'Content-Type']);
});

test('query values and bare query parts are redacted, names and path kept, fragment dropped', () => {
	assert.equal(redactUrl('/s?q=secret&page=2'), `/s?q=${REDACTED}&page=${REDACTED}`);
	assert.equal(redactUrl('/cb?eyJhbGciOi'), `/cb?${REDACTED}`);
	assert.equal(redactUrl('/a/b#frag'), '/a/b');
	assert.equal(redactUrl('/plain'), '/plain');
	assert.equal(redactUrl('/empty?'), '/empty?');
});
