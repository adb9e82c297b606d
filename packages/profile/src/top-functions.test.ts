import assert from 'node:assert/strict';
import { test } from 'node:test';
import { knownProfile } from '../fixtures/known-profile.ts';
import { topFunctions } from './top-functions.ts';

test('self and total per function, recursion counted once per stack', () => {
	const rows = topFunctions(knownProfile());
	const byName = new Map(rows.map((r) => [r.name, r]));
	const expect: Record<string, [self: number, total: number]> = {
		compute: [8, 8],
		fib: [4, 4],
		ksys_read: [3, 3],
		jsFn: [2, 2],
		work: [1, 9],
		main: [0, 16],
		read: [0, 3],
		entry_SYSCALL_64: [0, 3],
		start: [0, 2],
	};
	assert.equal(rows.length, Object.keys(expect).length);
	for (const [name, [self, total]] of Object.entries(expect)) {
		const row = byName.get(name);
		assert.ok(row, name);
		assert.deepEqual([row.self, row.total], [self, total], name);
	}
	assert.deepEqual(byName.get('ksys_read'), {
		name: 'ksys_read',
		module: '[kernel.kallsyms]',
		kind: 'kernel',
		self: 3,
		total: 3,
	});
	// Sorted by self, then total: main (0, 16) leads the zero-self rows.
	assert.deepEqual(
		rows.map((r) => r.name),
		['compute', 'fib', 'ksys_read', 'jsFn', 'work', 'main', 'entry_SYSCALL_64', 'read', 'start'],
	);
	const selfSum = rows.reduce((s, r) => s + r.self, 0);
	assert.equal(selfSum, 18, 'every sample has exactly one leaf');
});
