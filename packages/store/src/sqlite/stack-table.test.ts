import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { StackTable, hashStack } from './stack-table.ts';

const keyOf = (host: number, ids: readonly number[]) => `${host}:${ids.join(',')}`;

/**
 * The table as the store uses it, against a plain Map: stacks are stored (found by frames, or
 * given the database's id on a miss), read back by id, and forgotten whole past a small bound.
 * The "database" hands out one id per host and stack, as the stacks table's unique key does.
 */
test('StackTable agrees with a plain Map of stacks over random stores, reads by id and start-overs', () => {
	const stack = fc.record({ host: fc.integer({ min: 1, max: 3 }), ids: fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 6 }) });
	const op = fc.oneof(
		fc.record({ kind: fc.constant('store' as const), stack }),
		fc.record({ kind: fc.constant('read' as const), pick: fc.nat() }),
	);
	fc.assert(
		fc.property(fc.array(op, { maxLength: 300 }), fc.integer({ min: 1, max: 40 }), (ops, bound) => {
			const table = new StackTable();
			const database = new Map<string, number>();
			const rows: { host: number; ids: number[]; id: number }[] = [];
			for (const o of ops) {
				if (table.size > bound) table.clear();
				if (o.kind === 'store') {
					const { host, ids } = o.stack;
					let id = database.get(keyOf(host, ids));
					const r = table.find(host, ids, ids.length);
					if (r >= 0) {
						assert.equal(table.id(r), id, `${keyOf(host, ids)} found under another stack's id`);
						continue;
					}
					if (id === undefined) {
						id = rows.length + 1;
						database.set(keyOf(host, ids), id);
						rows.push({ host, ids, id });
					}
					assert.equal(table.byId(id), -1, `${keyOf(host, ids)} missed by its frames, held by its id`);
					table.add(host, id, id * 10, ids, ids.length);
				} else if (rows.length > 0) {
					const row = rows[o.pick % rows.length]!;
					if (table.byId(row.id) < 0) table.add(row.host, row.id, row.id * 10, row.ids, row.ids.length);
				}
				for (const row of rows) {
					const r = table.byId(row.id);
					const found = table.find(row.host, row.ids, row.ids.length);
					assert.equal(found, r, `${keyOf(row.host, row.ids)}: by frames ${found}, by id ${r}`);
					if (r < 0) continue;
					assert.equal(table.id(r), row.id);
					assert.equal(table.lastMs(r), row.id * 10);
					assert.deepEqual(
						table.mapFrames(r, (f) => f),
						row.ids,
					);
				}
			}
		}),
		{ numRuns: 300 },
	);
});

test('StackTable tells apart two stacks of one hash', () => {
	// Birthday search: among a few hundred thousand two-frame stacks, some pair shares a 32-bit hash.
	const seen = new Map<number, number[]>();
	let pair: [number[], number[]] | undefined;
	for (let a = 1; pair === undefined && a < 2_000; a++) {
		for (let b = 1; b < 1_000; b++) {
			const ids = [a, b];
			const hash = hashStack(1, ids, 2);
			const other = seen.get(hash);
			if (other !== undefined) {
				pair = [other, ids];
				break;
			}
			seen.set(hash, ids);
		}
	}
	assert.ok(pair, 'no two stacks share a hash');
	const [first, second] = pair;
	const table = new StackTable();
	table.add(1, 100, 0, first, 2);
	assert.equal(table.find(1, second, 2), -1, `${second} found as ${first}`);
	table.add(1, 200, 0, second, 2);
	assert.equal(table.id(table.find(1, first, 2)), 100);
	assert.equal(table.id(table.find(1, second, 2)), 200);
	// The same frames on another host are another stack.
	assert.equal(table.find(2, first, 2), -1);
});

test('StackTable keeps its stacks over growth and forgets them all on clear', () => {
	const table = new StackTable();
	const ids = (i: number) => Array.from({ length: (i % 70) + 1 }, (_, d) => i * 7 + d);
	for (let i = 0; i < 20_000; i++) table.add(1 + (i % 2), i + 1, i, ids(i), ids(i).length);
	assert.equal(table.size, 20_000);
	for (let i = 0; i < 20_000; i += 97) {
		const r = table.find(1 + (i % 2), ids(i), ids(i).length);
		assert.equal(table.id(r), i + 1);
		assert.equal(table.byId(i + 1), r);
	}
	table.clear();
	assert.equal(table.size, 0);
	assert.equal(table.frameCount, 0);
	assert.equal(table.find(1, ids(0), ids(0).length), -1);
	assert.equal(table.byId(1), -1);
	table.add(1, 5, 0, ids(0), ids(0).length);
	assert.equal(table.id(table.find(1, ids(0), ids(0).length)), 5);
});
