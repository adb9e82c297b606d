import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FlameNode } from '@firesight/profile';
import { unnamedNodeProcesses } from './node-perf-map-hint.ts';

const node = (name: string, value: number, children: FlameNode[] = []): FlameNode => ({ name, value, children });

test('a node process mostly in [anon] frames is found, each sample counted once', () => {
	const root = node('all', 200, [
		node('node', 100, [
			node('uv_run', 100, [
				node('[anon]+0x7f001000', 50, [node('[anon]+0x7f002000', 40)]),
				node('v8::Function::Call', 10),
				node('epoll_wait', 40),
			]),
		]),
		node('dd', 100, [node('[anon]+0x1000', 100)]),
	]);
	assert.deepEqual(unnamedNodeProcesses(root), [{ comm: 'node', anonSamples: 50, samples: 100 }]);
});

test('[anon] frames without an address count as well', () => {
	const root = node('all', 100, [node('node', 100, [node('uv_run', 100, [node('[anon]', 60), node('epoll_wait', 40)])])]);
	assert.deepEqual(unnamedNodeProcesses(root), [{ comm: 'node', anonSamples: 60, samples: 100 }]);
});

test('a node process with named JavaScript is left alone', () => {
	const root = node('all', 100, [
		node('node', 100, [node('uv_run', 100, [node('[anon]+0x7f001000', 5), node('processRequest app.js:3', 95)])]),
	]);
	assert.deepEqual(unnamedNodeProcesses(root), []);
});
