import assert from 'node:assert/strict';
import { test } from 'node:test';
import { knownProfile } from '../fixtures/known-profile.ts';
import { samplesUnder } from './flame-path.ts';
import { searchProfile } from './search-profile.ts';
import { topFunctions } from './top-functions.ts';

test('a search counts each sample once, whatever it matches how often', () => {
	const profile = knownProfile();
	assert.deepEqual(searchProfile(profile, 'fib'), { matched: 4, total: 18, functions: 1 });
	// "r" matches work (9), read with its entry_SYSCALL_64 and ksys_read (3) and start (2).
	assert.deepEqual(searchProfile(profile, 'R'), { matched: 14, total: 18, functions: 5 });
	assert.deepEqual(searchProfile(profile, '  '), { matched: 0, total: 18, functions: 0 });
});

test('a function found by its exact name counts what its top-functions row counts', () => {
	const profile = knownProfile();
	for (const row of topFunctions(profile)) {
		const others = topFunctions(profile).filter((r) => r.name !== row.name && r.name.toLowerCase().includes(row.name.toLowerCase()));
		if (others.length > 0) continue;
		assert.equal(searchProfile(profile, row.name).matched, row.total, row.name);
	}
});

test('searching within a zoomed node counts that node’s samples only', () => {
	const under = samplesUnder(knownProfile(), ['app', 'main', 'work']);
	assert.deepEqual(searchProfile(under, 'compute'), { matched: 8, total: 9, functions: 1 });
});
