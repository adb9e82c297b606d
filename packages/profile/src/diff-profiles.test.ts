import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Frame } from './frame.ts';
import { type DiffNode, diffProfiles, normalizedChange } from './diff-profiles.ts';
import { diffFunctions } from './diff-functions.ts';
import type { Profile } from './profile.ts';
import { ProfileBuilder } from './profile-builder.ts';

const fn = (name: string): Frame => ({ name, module: 'app', kind: 'user' });
const META = { startMs: 0, durationMs: 10_000, frequencyHz: 100 };

function profile(stacks: [string, number][], comm = 'app'): Profile {
	const b = new ProfileBuilder(META);
	for (const [stack, weight] of stacks) b.appendSample(stack.split(';').map(fn), weight, { pid: 1, comm });
	return b.build();
}

function at(node: DiffNode, ...path: string[]): DiffNode {
	for (const name of path) {
		const next = node.children.find((c) => c.name === name);
		assert.ok(next, `${node.name} has no child ${name}`);
		node = next;
	}
	return node;
}

// Baseline (4 samples): compute 1/4, read 2/4, gone 1/4.
// Comparison (8 samples): compute 4/8 (its share doubles), read 3/8, fresh 1/8 (new).
const baseline = () =>
	profile([
		['main;work;compute', 1],
		['main;read', 2],
		['main;gone', 1],
	]);
const comparison = () =>
	profile([
		['main;work;compute', 4],
		['main;read', 3],
		['main;fresh', 1],
	]);

test('a diff tree carries both sides and widths normalized by each side total', () => {
	const { root, pruned, baselineTotal, comparisonTotal } = diffProfiles(baseline(), comparison());
	assert.equal(pruned, 0);
	assert.deepEqual([baselineTotal, comparisonTotal], [4, 8]);
	assert.deepEqual([root.name, root.value, root.baseline, root.comparison], ['all', 2, 4, 8]);
	const main = at(root, 'app', 'main');
	assert.equal(main.value, 2);
	assert.equal(normalizedChange(main.baseline, 4, main.comparison, 8), 0, 'main holds every sample on both sides');
	const compute = at(main, 'work', 'compute');
	assert.deepEqual([compute.baseline, compute.comparison, compute.value], [1, 4, 0.75]);
	assert.equal(normalizedChange(compute.baseline, 4, compute.comparison, 8), 1, 'share doubled: +100%');
	const read = at(main, 'read');
	assert.equal(normalizedChange(read.baseline, 4, read.comparison, 8), -0.25);
	assert.equal(read.kind, 'user');
	assert.equal(read.module, 'app');
});

test('frames on one side only are kept, with 0 on the other', () => {
	const main = at(diffProfiles(baseline(), comparison()).root, 'app', 'main');
	assert.deepEqual(
		main.children.map((c) => [c.name, c.baseline, c.comparison]),
		[
			['fresh', 0, 1],
			['gone', 1, 0],
			['read', 2, 3],
			['work', 1, 4],
		],
	);
	const fresh = at(main, 'fresh');
	assert.equal(normalizedChange(fresh.baseline, 4, fresh.comparison, 8), Number.POSITIVE_INFINITY);
	const gone = at(main, 'gone');
	assert.equal(normalizedChange(gone.baseline, 4, gone.comparison, 8), -1);
	assert.equal(gone.value, 0.25);
});

test('pruning drops nodes narrower than the fraction of both sides and counts them', () => {
	// Root value 2, 10% of it is 0.2: fresh (0.125) goes, gone (0.25) stays.
	const { root, pruned } = diffProfiles(baseline(), comparison(), { minFraction: 0.1 });
	assert.equal(pruned, 1);
	assert.deepEqual(
		at(root, 'app', 'main').children.map((c) => c.name),
		['gone', 'read', 'work'],
	);
	assert.equal(at(root, 'app', 'main').comparison, 8, 'pruned weight stays in the parent');
});

test('without the process level, two processes of different names line up by frames', () => {
	const a = profile([['main;work', 2]], 'before');
	const b = profile(
		[
			['main;work', 1],
			['main;idle', 1],
		],
		'after',
	);
	const byProcess = diffProfiles(a, b);
	assert.deepEqual(
		byProcess.root.children.map((c) => [c.name, c.baseline, c.comparison]),
		[
			['after', 0, 2],
			['before', 2, 0],
		],
	);
	const merged = diffProfiles(a, b, { byProcess: false });
	const work = at(merged.root, 'main', 'work');
	assert.deepEqual([work.baseline, work.comparison], [2, 1]);
	assert.equal(normalizedChange(work.baseline, 2, work.comparison, 2), -0.5);
});

test('an empty side counts as nothing, not as a division by zero', () => {
	const empty = new ProfileBuilder(META).build();
	const { root } = diffProfiles(empty, comparison());
	assert.equal(root.value, 1);
	assert.equal(at(root, 'app', 'main').baseline, 0);
	assert.equal(normalizedChange(0, 0, 0, 0), 0);
});

test('the function table has both sides, deltas as shares of each total', () => {
	const rows = diffFunctions(baseline(), comparison());
	const row = (name: string) => {
		const found = rows.find((r) => r.name === name);
		assert.ok(found, `no row ${name}`);
		return found;
	};
	assert.deepEqual(rows.map((r) => r.name).sort(), ['compute', 'fresh', 'gone', 'main', 'read', 'work']);
	const compute = row('compute');
	assert.deepEqual([compute.baselineSelf, compute.comparisonSelf, compute.baselineTotal, compute.comparisonTotal], [1, 4, 1, 4]);
	assert.equal(compute.selfDelta, 0.25);
	assert.equal(compute.totalDelta, 0.25);
	assert.equal(row('main').totalDelta, 0);
	assert.equal(row('main').selfDelta, 0);
	assert.equal(row('work').selfDelta, 0, 'work is never the leaf');
	assert.equal(row('read').selfDelta, 3 / 8 - 2 / 4);
	assert.deepEqual([row('gone').comparisonTotal, row('gone').totalDelta], [0, -0.25]);
	assert.deepEqual([row('fresh').baselineTotal, row('fresh').totalDelta], [0, 0.125]);
});
