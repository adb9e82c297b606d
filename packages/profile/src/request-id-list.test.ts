import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatRequestIds, parseRequestIds, requestIdEntry } from './request-id-list.ts';

test('a requestId label names one request, or a list of them with those the sample may come after marked', () => {
	assert.deepEqual(parseRequestIds('b:7'), [{ requestId: 'b:7', mayBeAfter: false }]);
	const list = [
		{ requestId: 'b:7', mayBeAfter: true },
		{ requestId: 'b:9', mayBeAfter: false },
	];
	assert.equal(formatRequestIds(list), 'b:7+ b:9');
	assert.deepEqual(parseRequestIds(formatRequestIds(list)), list);
	assert.deepEqual(requestIdEntry('b:7+ b:9', 'b:7'), { requestId: 'b:7', mayBeAfter: true });
	assert.deepEqual(requestIdEntry('b:7+ b:9', 'b:9'), { requestId: 'b:9', mayBeAfter: false });
	// Whole entries only: neither a prefix nor the marked form is a request of the list.
	for (const other of ['b:', 'b', 'b:79', 'b:7+', '7']) assert.equal(requestIdEntry('b:7+ b:9', other), undefined, other);
	assert.equal(requestIdEntry(undefined, 'b:7'), undefined);
});
