import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_REDACTION, isSecretHeader, redactHeaders, redactionRules } from './request-redaction.ts';

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
