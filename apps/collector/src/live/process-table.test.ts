import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseProcStat } from './proc-stat.ts';
import { withSamples } from '../profiling/profiling-feature.ts';
import { ProcessTable } from './process-table.ts';

test('parseProcStat reads fields after a comm holding spaces and parentheses', () => {
	const line = '4242 (my (odd) proc) R 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 1 0 123456 1000 10 0';
	assert.deepEqual(parseProcStat(line), { comm: 'my (odd) proc', cpuTicks: 300, startTicks: 123456, kernelThread: false });
	// kthreadd's flags as this kernel shows them: PF_KTHREAD (0x200000) among others.
	const kthread = '2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 3 0 0 20 0 1 0 2 0 0 0';
	assert.equal(parseProcStat(kthread)?.kernelThread, true);
	assert.equal(parseProcStat('garbage'), undefined);
});

/** The scheduler's own on-CPU nanoseconds: a second kernel account to check /proc/PID/stat's against. */
const onCpuNs = (pid: number) => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);

test('CPU % agrees with the scheduler, samples/s and command lines are joined in', async (t) => {
	const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
	const idle = spawn('sleep', ['30'], { stdio: 'ignore' });
	t.after(() => {
		busy.kill('SIGKILL');
		idle.kill('SIGKILL');
	});
	const seen: number[] = [];
	const exited: number[] = [];
	const table = new ProcessTable({ onNewProcess: (pid) => seen.push(pid), onExit: (pid) => exited.push(pid) });
	await sleep(200);
	const t0 = Date.now();
	const ns0 = onCpuNs(busy.pid!);
	table.scan(t0);
	// Wait until the loop has run half a second on a CPU however busy the machine is, so that a
	// 10 ms tick is a small part of what is compared.
	const deadline = t0 + 60_000;
	await sleep(1000);
	while (onCpuNs(busy.pid!) - ns0 < 500e6 && Date.now() < deadline) await sleep(250);
	const t1 = Date.now();
	const ns1 = onCpuNs(busy.pid!);
	const rows = withSamples(table.scan(t1), new Map([[busy.pid!, { comm: 'node', samples: 97 }]]), t1 - t0);
	const oracle = ((ns1 - ns0) / 1e6 / (t1 - t0)) * 100;
	const b = rows.find((r) => r.pid === busy.pid);
	const i = rows.find((r) => r.pid === idle.pid);
	assert.ok(b && i, 'both processes are listed');
	assert.ok(ns1 - ns0 >= 500e6, `the busy loop ran ${((ns1 - ns0) / 1e6).toFixed(0)} ms in a minute`);
	// USER_HZ ticks are 10 ms: over half a second on a CPU the two accounts differ by a few per cent.
	assert.ok(
		Math.abs(b.cpuPercent - oracle) < Math.max(3, oracle * 0.1),
		`busy loop at ${b.cpuPercent}%, scheduler says ${oracle.toFixed(1)}%`,
	);
	assert.ok(i.cpuPercent < 5, `sleep at ${i.cpuPercent}%`);
	assert.ok(Math.abs(b.samplesPerSec - 97 / ((t1 - t0) / 1000)) < 0.2, `samples/s ${b.samplesPerSec}`);
	assert.match(b.cmdline, /for \(;;\)/);
	assert.equal(b.kernelThread, undefined, 'a user process is no kernel thread');
	// pid 2 is kthreadd wherever the pid namespace is the host's; elsewhere there is no kernel thread to see.
	const kthreadd = rows.find((r) => r.pid === 2 && r.comm === 'kthreadd');
	if (kthreadd) assert.equal(kthreadd.kernelThread, true);
	assert.ok(seen.includes(busy.pid!), 'new processes are reported once');
	assert.equal(seen.filter((p) => p === busy.pid).length, 1);

	idle.kill('SIGKILL');
	await new Promise((r) => idle.once('exit', r));
	await sleep(50);
	table.scan(Date.now());
	assert.ok(exited.includes(idle.pid!), 'an exited process is reported');
});

test('past maxRows a scan keeps the busiest processes and counts the rest; exited processes leave the table', async (t) => {
	const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
	t.after(() => busy.kill('SIGKILL'));
	const exited: number[] = [];
	const table = new ProcessTable({ maxRows: 5, onExit: (pid) => exited.push(pid) });
	table.scan(Date.now());
	const cutBefore = table.rowsCut;
	await sleep(500);
	const rows = table.scan(Date.now());
	assert.equal(rows.length, 5);
	assert.deepEqual(
		rows.map((r) => r.cpuPercent),
		rows.map((r) => r.cpuPercent).sort((a, b) => b - a),
		'busiest first',
	);
	assert.ok(rows[0]!.cpuPercent > 0, 'the busiest are kept');
	const everyone = table.size;
	assert.ok(everyone > 5, `${everyone} processes known`);
	assert.equal(table.rowsCut - cutBefore, everyone - 5);

	// Churn: 50 processes start, then exit; once gone, the table is its size again.
	const before = table.size;
	const children = Array.from({ length: 50 }, () => spawn('sleep', ['30'], { stdio: 'ignore' }));
	await Promise.all(children.map((c) => new Promise((r) => c.once('spawn', r))));
	table.discover(Date.now());
	assert.ok(table.size >= before + 45, `${table.size} known with the sleepers, ${before} before`);
	await Promise.all(children.map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGKILL')))));
	table.discover(Date.now());
	for (const c of children) assert.ok(exited.includes(c.pid!), `pid ${c.pid} reported gone`);
	assert.ok(table.size <= before + 5, `${table.size} known after they exited, ${before} before`);
});
