import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_REDACTION, isSecretHeader, redactCommandLine, redactHeaders, redactionRules } from './request-redaction.ts';

test('the default rules redact API keys, auth tokens and any header named like a secret', () => {
	const captured: [string, string][] = [
		['X-Api-Key', 'k1'],
		['X-Auth-Token', 't1'],
		['X-Upstream-Token', 't2'],
		['X-Client-Secret', 's1'],
		['X-DB-Password', 'p1'],
		['X-Session-Id', 'sid'],
		['api_key', 'k2'],
		['Cookie', 'c=1'],
		['Accept', 'text/html'],
		['Content-Length', '12'],
		['Connection', 'keep-alive'],
	];
	const out = redactHeaders(captured);
	const kept = out.filter(([, v]) => v !== 'REDACTED').map(([n]) => n);
	assert.deepEqual(kept, ['Accept', 'Content-Length', 'Connection']);
	for (const [, v] of out) assert.ok(!['k1', 't1', 't2', 's1', 'p1', 'sid', 'k2', 'c=1'].includes(v));
});

test('more header names can be added to the list, compared without case', () => {
	assert.equal(isSecretHeader('X-Signature'), false);
	const rules = redactionRules(['X-Signature']);
	assert.equal(isSecretHeader('x-signature', rules), true);
	assert.equal(isSecretHeader('X-Api-Key', rules), true);
	assert.deepEqual(redactHeaders([['X-SIGNATURE', 'abc']], rules), [['X-SIGNATURE', 'REDACTED']]);
	assert.ok(DEFAULT_REDACTION.headers.includes('x-api-key'));
});

test('command lines lose the credentials they were given, and keep the rest', () => {
	const cases: [string, string][] = [
		[
			'curl -sk -H Authorization: Bearer s3cr3t https://127.0.0.1:8443/api/x',
			'curl -sk -H Authorization: REDACTED https://127.0.0.1:8443/api/x',
		],
		['curl -H X-Api-Key:k1 https://h/', 'curl -H X-Api-Key:REDACTED https://h/'],
		['curl -u alice:pw1 https://h/', 'curl -u REDACTED https://h/'],
		['psql postgres://bob:hunter2@db/x', 'psql postgres://bob:REDACTED@db/x'],
		['app --api-token t1 --verbose', 'app --api-token REDACTED --verbose'],
		['app --password=pw --port=80', 'app --password=REDACTED --port=80'],
		['env PGPASSWORD=zzz psql', 'env PGPASSWORD=REDACTED psql'],
		['curl https://h/x?api_key=k2&page=2', 'curl https://h/x?api_key=REDACTED&page=2'],
		['node server.js --port 8443 http://h:80/', 'node server.js --port 8443 http://h:80/'],
	];
	for (const [given, expected] of cases) {
		assert.equal(redactCommandLine(given), expected, given);
		assert.equal(redactCommandLine(expected), expected, `idempotent: ${expected}`);
	}
});

test('a header name gets the same answer every time it is asked, whatever rules asked before', () => {
	const rules = redactionRules(['x-internal']);
	const list: [string, string][] = [
		['X-Internal', 'a'],
		['Accept', 'b'],
		['x-internal', 'c'],
	];
	for (let round = 0; round < 3; round++) {
		assert.deepEqual(redactHeaders(list, rules), [
			['X-Internal', 'REDACTED'],
			['Accept', 'b'],
			['x-internal', 'REDACTED'],
		]);
		// The default rules do not know the extra name, even right after the others answered for it.
		assert.deepEqual(redactHeaders(list), list);
	}
	// Past the cache's bound the answers stay the same.
	for (let i = 0; i < 5000; i++) isSecretHeader(`x-filler-${i}`, rules);
	assert.equal(isSecretHeader('X-Internal', rules), true);
	assert.equal(isSecretHeader('Accept', rules), false);
	assert.notEqual(redactHeaders(list), list, 'a copy, not the list itself');
});
