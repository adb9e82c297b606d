import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isIdleKernelThread, withoutIdleKernelThreads } from './live-processes.ts';

const row = (pid: number, fields: { kernelThread?: boolean; cpuPercent?: number; samplesPerSec?: number; requestsPerSec?: number }) => ({
	pid,
	comm: `p${pid}`,
	cmdline: '',
	cpuPercent: 0,
	samplesPerSec: 0,
	...fields,
});

test('an idle kernel thread is one the kernel marks as such that used no CPU and was not sampled', () => {
	assert.equal(isIdleKernelThread(row(2, { kernelThread: true })), true);
	assert.equal(isIdleKernelThread(row(3, { kernelThread: true, cpuPercent: 0.1 })), false, 'it used CPU');
	assert.equal(isIdleKernelThread(row(4, { kernelThread: true, samplesPerSec: 1 })), false, 'it was sampled');
	assert.equal(isIdleKernelThread(row(5, {})), false, 'an idle user process stays');
	assert.equal(isIdleKernelThread(row(6, { kernelThread: false })), false);
});

test('idle kernel threads are left out and counted unless shown', () => {
	const rows = [row(1, {}), row(2, { kernelThread: true }), row(3, { kernelThread: true, cpuPercent: 3 }), row(4, { kernelThread: true })];
	const hidden = withoutIdleKernelThreads(rows, false);
	assert.deepEqual(
		hidden.rows.map((r) => r.pid),
		[1, 3],
	);
	assert.equal(hidden.hidden, 2);
	const shown = withoutIdleKernelThreads(rows, true);
	assert.equal(shown.rows.length, 4);
	assert.equal(shown.hidden, 0);
});
