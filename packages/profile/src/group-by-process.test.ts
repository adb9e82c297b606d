import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toFlameTree } from './flame-tree.ts';
import { groupByProcess, PROCESS_MODULE } from './group-by-process.ts';
import { ProfileBuilder } from './profile-builder.ts';
import { totalWeight } from './profile.ts';

function twoNodes() {
	const b = new ProfileBuilder({ startMs: 0, durationMs: 10_000, frequencyHz: 99 });
	const main = { name: 'main', module: 'node', kind: 'user' } as const;
	const work = { name: 'work', module: 'node', kind: 'user' } as const;
	b.appendSample([main, work], 7, { pid: 10, comm: 'node' });
	b.appendSample([main], 3, { pid: 11, comm: 'node' });
	b.appendSample([main, work], 5, { pid: 11, comm: 'node' });
	return b.build();
}

test('each process gets its own level under its command, on a copy', () => {
	const profile = twoNodes();
	const before = JSON.stringify(profile);
	const grouped = groupByProcess(profile);
	assert.equal(JSON.stringify(profile), before, 'the input is unchanged');
	assert.equal(totalWeight(grouped), totalWeight(profile));
	const { root } = toFlameTree(grouped);
	const node = root.children.find((c) => c.name === 'node');
	assert.deepEqual(
		node?.children.map((c) => [c.name, c.value, c.module]),
		[
			['node (10)', 7, PROCESS_MODULE],
			['node (11)', 8, PROCESS_MODULE],
		],
	);
	assert.equal(node?.children[1]?.children[0]?.name, 'main');
	assert.equal(node?.children[1]?.children[0]?.children[0]?.value, 5);
});
