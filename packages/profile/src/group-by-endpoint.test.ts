import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Frame } from './frame.ts';
import { toFlameTree } from './flame-tree.ts';
import { groupByEndpoint, ENDPOINT_MODULE } from './group-by-endpoint.ts';
import { groupByProcess } from './group-by-process.ts';
import { ProfileBuilder } from './profile-builder.ts';

const f = (name: string): Frame => ({ name, module: 'server', kind: 'user' });

function profile() {
	const b = new ProfileBuilder({ startMs: 0, durationMs: 10_000, frequencyHz: 100 });
	b.appendSample([f('main'), f('getUser')], 6, { pid: 7, comm: 'server', endpoint: 'GET /users/:id' });
	b.appendSample([f('main'), f('getUser')], 2, { pid: 7, comm: 'server', endpoint: 'GET /users/:id', requestId: 'b:1' });
	b.appendSample([f('main'), f('getUser')], 3, { pid: 7, comm: 'server', endpoint: 'GET /users/:id', ambiguous: true });
	b.appendSample([f('main'), f('gc')], 4, { pid: 7, comm: 'server' });
	return b.build();
}

test('each endpoint gets a level above the frames; ambiguous samples and unattributed ones stay apart', () => {
	const input = profile();
	const grouped = groupByEndpoint(input);
	const tree = toFlameTree(grouped);
	const server = tree.root.children.find((c) => c.name === 'server')!;
	const levels = Object.fromEntries(server.children.map((c) => [c.name, c.value]));
	assert.deepEqual(levels, { 'GET /users/:id': 8, 'GET /users/:id (ambiguous)': 3, '(no request)': 4 });
	assert.ok(grouped.frames.filter((fr) => fr.module === ENDPOINT_MODULE).length === 3);
	// The input is untouched and the labels are kept.
	assert.equal(input.samples[0]!.stack.length, 2);
	assert.deepEqual(
		grouped.samples.map((s) => s.endpoint ?? null),
		input.samples.map((s) => s.endpoint ?? null),
	);
});

test('with the process level too, the levels read command, process, endpoint', () => {
	const tree = toFlameTree(groupByProcess(groupByEndpoint(profile())));
	const process = tree.root.children[0]!.children[0]!;
	assert.equal(process.name, 'server (7)');
	assert.deepEqual(process.children.map((c) => c.name).sort(), ['(no request)', 'GET /users/:id', 'GET /users/:id (ambiguous)']);
});
