import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bpfSkip } from '@firesight/testing/bpf-test-gate';
import { startHub, type Hub } from '@firesight/web/server';

const BIN = fileURLToPath(new URL('../bin/firesight.js', import.meta.url));
const skip = bpfSkip();

/** Our BPF objects as the kernel numbers them: what a process's fds hold. */
interface BpfIds {
	progs: Set<number>;
	maps: Set<number>;
	links: Set<number>;
}

/** The BPF programs, maps and links a process holds, read from its fds' fdinfo. */
function heldBy(pid: number): BpfIds {
	const ids: BpfIds = { progs: new Set(), maps: new Set(), links: new Set() };
	let fds: string[];
	try {
		fds = readdirSync(`/proc/${pid}/fdinfo`);
	} catch {
		return ids;
	}
	for (const fd of fds) {
		let info: string;
		try {
			info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
		} catch {
			continue;
		}
		const field = (name: string) => Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
		// A link's fdinfo names its program too: the link owns that reference, not the process.
		if (!Number.isNaN(field('link_id'))) ids.links.add(field('link_id'));
		else if (!Number.isNaN(field('prog_id'))) ids.progs.add(field('prog_id'));
		else if (!Number.isNaN(field('map_id'))) ids.maps.add(field('map_id'));
	}
	return ids;
}

/** What the kernel has loaded right now, by the same ids, with each program's name. */
function loaded(): { progs: Map<number, string>; maps: Set<number>; links: Set<number> } {
	const list = (what: string) =>
		JSON.parse(execFileSync('bpftool', ['-j', what, 'show'], { encoding: 'utf8' }) || '[]') as { id: number; name?: string }[];
	return {
		progs: new Map(list('prog').map((p) => [p.id, p.name ?? ''])),
		maps: new Set(list('map').map((m) => m.id)),
		links: new Set(list('link').map((l) => l.id)),
	};
}

/** What of `ids` the kernel still has loaded. */
function leftOf(ids: BpfIds): string[] {
	const now = loaded();
	return [
		...[...ids.progs].filter((id) => now.progs.has(id)).map((id) => `prog ${id} (${now.progs.get(id)})`),
		...[...ids.maps].filter((id) => now.maps.has(id)).map((id) => `map ${id}`),
		...[...ids.links].filter((id) => now.links.has(id)).map((id) => `link ${id}`),
	];
}

async function until(what: string | (() => string), cond: () => boolean, timeoutMs = 90_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!cond()) {
		if (Date.now() > deadline) throw new Error(`no ${typeof what === 'string' ? what : what()} within ${timeoutMs / 1000} s`);
		await new Promise((r) => setTimeout(r, 200));
	}
}

async function startedHub(t: TestContext): Promise<{ hub: Hub; token: string }> {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-lifecycle-'));
	const token = 'lifecycle-token';
	const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir: join(dir, 'data'), token, web: false, log: () => {} });
	t.after(async () => {
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	});
	return { hub, token };
}

interface RunningCollector {
	child: ChildProcess;
	exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
	stderr: () => string;
}

function startCollector(t: TestContext, hub: Hub, token: string, host: string): RunningCollector {
	const spool = mkdtempSync(join(tmpdir(), 'firesight-lifecycle-spool-'));
	const child = spawn(process.execPath, [BIN, 'collector', '--hub', hub.url, '--token', token, '--host', host, '--spool', spool], {
		stdio: ['ignore', 'ignore', 'pipe'],
	});
	let stderr = '';
	child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
	const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
		child.on('exit', (code, signal) => resolve({ code, signal })),
	);
	t.after(() => {
		if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
		rmSync(spool, { recursive: true, force: true });
	});
	return { child, exited, stderr: () => stderr };
}

/**
 * Waits until every feature of the collector has started (its first live stats name them: they go
 * out once the last has attached), with the profiler's programs loaded, and returns what it holds.
 */
async function attached(c: RunningCollector, hub: Hub, host: string): Promise<BpfIds> {
	await until(
		() => `the features of collector ${c.child.pid} started (stderr: ${c.stderr()})`,
		() => {
			if (c.child.exitCode !== null) throw new Error(`collector exited: ${c.stderr()}`);
			return hub.state.hosts().some((h) => h.host === host && h.features !== undefined);
		},
	);
	const ids = heldBy(c.child.pid!);
	const progs = loaded().progs;
	// do_sample walks frame pointers (--unwind fp); do_sample_walk is the table walker (auto, the default).
	assert.ok(
		[...ids.progs].some((id) => /^do_sample/.test(progs.get(id) ?? '')) && ids.links.size > 0 && ids.maps.size > 0,
		`the profiler's programs loaded: ${JSON.stringify({ progs: [...ids.progs].map((id) => progs.get(id)), links: ids.links.size })}`,
	);
	return ids;
}

for (const signal of ['SIGKILL', 'SIGTERM', 'SIGINT'] as const) {
	test(`after ${signal} of a collector, no program, map or link of its is left in the kernel`, { skip, timeout: 300_000 }, async (t) => {
		const { hub, token } = await startedHub(t);
		const collector = startCollector(t, hub, token, `lifecycle-${signal.toLowerCase()}`);
		const ids = await attached(collector, hub, `lifecycle-${signal.toLowerCase()}`);
		assert.ok(
			ids.progs.size + ids.links.size >= 3,
			`the collector holds programs and links: ${JSON.stringify({ progs: ids.progs.size, links: ids.links.size })}`,
		);
		assert.deepEqual(leftOf(ids).length, ids.progs.size + ids.maps.size + ids.links.size, 'bpftool lists everything the collector holds');

		collector.child.kill(signal);
		const exit = await collector.exited;
		if (signal === 'SIGKILL') assert.equal(exit.signal, 'SIGKILL');
		else assert.equal(exit.code, 0, `a clean stop after ${signal}: ${collector.stderr()}`);
		await until(
			() => `the kernel to free the collector's BPF objects (left: ${leftOf(ids).join(', ')})`,
			() => leftOf(ids).length === 0,
		);
	});
}

test(
	'a second collector on the same host runs with BPF objects of its own, and killing one leaves the other whole',
	{ skip, timeout: 300_000 },
	async (t) => {
		const { hub, token } = await startedHub(t);
		const first = startCollector(t, hub, token, 'lifecycle-first');
		const second = startCollector(t, hub, token, 'lifecycle-second');
		const [a, b] = await Promise.all([attached(first, hub, 'lifecycle-first'), attached(second, hub, 'lifecycle-second')]);
		for (const kind of ['progs', 'maps', 'links'] as const) {
			assert.deepEqual(
				[...a[kind]].filter((id) => b[kind].has(id)),
				[],
				`no ${kind} shared`,
			);
		}
		await until('both hosts connected to the hub', () => {
			const hosts = hub.state
				.hosts()
				.filter((h) => h.connected)
				.map((h) => h.host);
			return hosts.includes('lifecycle-first') && hosts.includes('lifecycle-second');
		});

		first.child.kill('SIGKILL');
		await first.exited;
		await until(
			() => `the first collector's objects freed (left: ${leftOf(a).join(', ')})`,
			() => leftOf(a).length === 0,
		);
		assert.deepEqual(leftOf(b).length, b.progs.size + b.maps.size + b.links.size, 'the second collector keeps all of its objects');
		assert.equal(second.child.exitCode, null, 'the second collector is still running');
		second.child.kill('SIGTERM');
		assert.equal((await second.exited).code, 0);
	},
);
