import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Symbolizer } from './symbolizer.ts';
import { parseKallsyms } from './kallsyms.ts';
import { rootUnavailableReason, skipUnless } from '@firesight/testing/bpf-test-gate';
import { buildTargets, FIXTURES, nmFunctions, run, type Running } from '@firesight/testing/symbolize-targets';

const running: Running[] = [];
after(async () => {
	for (const r of running) await r.kill();
});

async function start(bin: string, args: string[] = []): Promise<Running> {
	const r = await run(bin, args);
	running.push(r);
	return r;
}

function one(s: Symbolizer, pid: number, ip: bigint) {
	const [f] = s.user(pid, [ip]);
	assert.ok(f !== undefined);
	return f;
}

describe('user frames from real processes', () => {
	for (const flavor of ['pie', 'nopie'] as const) {
		test(`${flavor}: functions, mid-function, shared library`, async () => {
			const b = buildTargets();
			const r = await start(b[flavor], [b.libDl]);
			const s = new Symbolizer();
			s.observe(r.pid);
			const i = r.info;
			const mod = flavor === 'pie' ? 'target-pie' : 'target-nopie';
			assert.deepEqual(one(s, r.pid, i.main!), { name: 'main', module: mod, kind: 'user' });
			assert.equal(one(s, r.pid, i.fs_work!).name, 'fs_work');
			assert.equal(one(s, r.pid, i.fs_work_mid!).name, 'fs_work');
			assert.deepEqual(one(s, r.pid, i.fsfix_linked!), { name: 'fsfix_linked', module: 'libfsfix.so', kind: 'user' });
			// Same order and length as the input, every frame present.
			const frames = s.user(r.pid, [i.main!, i.fs_work_mid!, 0x10n]);
			assert.equal(frames.length, 3);
			assert.deepEqual(frames[2], { name: '[unknown]', module: '', kind: 'user' });
			assert.ok(s.stats().missNoMapping! >= 1);
		});
	}

	test('libc function through the PIE', async () => {
		const b = buildTargets();
		const r = await start(b.pie, [b.libDl]);
		const s = new Symbolizer();
		// glibc exports getpid (weak) and __getpid (global) at one address: the plainer name wins.
		assert.deepEqual(one(s, r.pid, r.info.getpid!), { name: 'getpid', module: 'libc.so.6', kind: 'user' });
	});

	test('return addresses are looked up at ip - 1, the leaf is not', async () => {
		const b = buildTargets();
		const r = await start(b.pie, [b.libDl]);
		const s = new Symbolizer();
		const ra = r.info.ra!;
		const [leaf, caller] = s.user(r.pid, [ra, ra]);
		assert.equal(caller!.name, 'fs_caller');
		// fs_caller ends with its call to the noreturn fs_tail, so ra is just past its end.
		const syms = nmFunctions(b.pie);
		const [callerStart, callerSize] = syms.get('fs_caller')!;
		const base = r.info.main! - syms.get('main')![0];
		if (ra === base + callerStart + callerSize) assert.notEqual(leaf!.name, 'fs_caller');
		// Asked to treat the first address as a return address too, it is fs_caller again.
		assert.equal(s.user(r.pid, [ra], { firstIsLeaf: false })[0]!.name, 'fs_caller');
	});

	test('a library dlopened after observe is found by re-reading maps', async () => {
		const b = buildTargets();
		const r = await start(b.pie, [b.libDl]);
		const s = new Symbolizer();
		s.observe(r.pid);
		const { lib_dl: addr } = await r.ask('d');
		assert.ok(addr !== undefined && addr !== 0n);
		assert.deepEqual(one(s, r.pid, addr), { name: 'fsfix_dl', module: 'libfsdl.so', kind: 'user' });
	});

	test('an address with no symbol is module+file offset', async () => {
		const b = buildTargets();
		const r = await start(b.pie, [b.libDl]);
		const s = new Symbolizer();
		const maps = readFileSync(`/proc/${r.pid}/maps`, 'utf8').split('\n');
		// The first page of the executable is the ELF header: mapped, file-backed, no function.
		const first = maps.find((l) => l.endsWith('/target-pie'))!;
		const startAddr = BigInt(`0x${first.split('-')[0]}`);
		const f = one(s, r.pid, startAddr + 0x10n);
		assert.deepEqual(f, { name: 'target-pie+0x10', module: 'target-pie', kind: 'user' });
		assert.ok(s.stats().missNoSymbol! >= 1);
	});

	test('a process that exited is symbolized from its snapshot', async () => {
		const b = buildTargets();
		const r = await start(b.pie, [b.libDl]);
		const s = new Symbolizer();
		s.observe(r.pid);
		await r.kill();
		assert.equal(existsSync(`/proc/${r.pid}/maps`), false);
		// The second is a return address: main + 1 is looked up as main.
		const frames = s.user(r.pid, [r.info.fs_work_mid!, r.info.main! + 1n]);
		assert.equal(frames[0]!.name, 'fs_work');
		assert.equal(frames[1]!.name, 'main');
		s.forget(r.pid);
		assert.equal(s.stats().processes, 0);
		assert.deepEqual(one(s, r.pid, r.info.main!), { name: '[exited]', module: '', kind: 'user' });
		assert.ok(s.stats().missNoProcess! >= 1);
	});

	test('a short-lived process never seen alive, or a zombie, is [exited]; stack bytes in a live one are [unknown], never an address', async () => {
		const b = buildTargets();
		const s = new Symbolizer();
		// Stack bytes a frame-pointer walk once took for a return address: "lf/maps" in ASCII.
		const ascii = 0x7370616d2f666cn;
		const gone = await start(b.pie, [b.libDl]);
		await gone.kill();
		const frames = s.user(gone.pid, [gone.info.main!, ascii]);
		assert.deepEqual(
			frames.map((f) => f.name),
			['[exited]', '[exited]'],
		);
		assert.equal(s.stats().processes, 0);

		// A child that exits after its parent became `sleep`, which never reaps it: its maps read empty.
		const parent = spawn('sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
		after(() => parent.kill('SIGKILL'));
		const zombie = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString()))));
		const deadline = Date.now() + 30_000;
		while (!/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${zombie}/stat`, 'utf8'))) {
			assert.ok(Date.now() < deadline, 'the child became a zombie');
			await new Promise((r) => setTimeout(r, 20));
		}
		assert.equal(readFileSync(`/proc/${zombie}/maps`, 'utf8'), '');
		s.observe(zombie);
		assert.deepEqual(one(s, zombie, gone.info.main!), { name: '[exited]', module: '', kind: 'user' });
		assert.equal(s.stats().processes, 0, 'no empty snapshot is kept for it');

		const live = await start(b.pie, [b.libDl]);
		s.observe(live.pid);
		assert.deepEqual(
			s.user(live.pid, [live.info.main!, ascii]).map((f) => f.name),
			['main', '[unknown]'],
		);
	});

	test('a deleted executable is read through map_files', async (t) => {
		if (!skipUnless(t, rootUnavailableReason())) return;
		const b = buildTargets();
		const copy = `${b.dir}/target-gone`;
		readFileSync(b.pie);
		await import('node:fs').then((fs) => fs.copyFileSync(b.pie, copy));
		await import('node:fs').then((fs) => fs.chmodSync(copy, 0o755));
		const r = await start(copy, [b.libDl]);
		unlinkSync(copy);
		const s = new Symbolizer();
		assert.deepEqual(one(s, r.pid, r.info.fs_work_mid!), { name: 'fs_work', module: 'target-gone', kind: 'user' });
	});

	test('one library shared by processes is parsed once', async () => {
		const b = buildTargets();
		const a = await start(b.pie, [b.libDl]);
		const c = await start(b.nopie, [b.libDl]);
		const s = new Symbolizer();
		assert.equal(one(s, a.pid, a.info.getpid!).name, 'getpid');
		assert.equal(one(s, a.pid, a.info.fsfix_linked!).name, 'fsfix_linked');
		const parsed = s.stats().elfParsed!;
		const inC = a.info.getpid! - libcBase(a.pid) + libcBase(c.pid);
		assert.deepEqual(one(s, c.pid, inC), { name: 'getpid', module: 'libc.so.6', kind: 'user' });
		assert.equal(one(s, c.pid, c.info.fsfix_linked!).name, 'fsfix_linked');
		assert.equal(one(s, c.pid, c.info.main!).name, 'main');
		// Only the second executable is new; libc and libfsfix come from the cache.
		assert.equal(s.stats().elfParsed, parsed + 1);
	});
});

function libcBase(pid: number): bigint {
	const line = readFileSync(`/proc/${pid}/maps`, 'utf8')
		.split('\n')
		.find((l) => l.endsWith('/libc.so.6') && l.split(/\s+/)[2] === '00000000');
	assert.ok(line !== undefined, 'libc mapped at offset 0');
	return BigInt(`0x${line.split('-')[0]}`);
}

describe('C++ names', () => {
	test('a g++-compiled member function is demangled', async () => {
		const b = buildTargets();
		const bin = `${b.dir}/widget`;
		const { execFileSync } = await import('node:child_process');
		execFileSync('g++', ['-O0', '-g0', '-fno-omit-frame-pointer', '-o', bin, join(FIXTURES, 'widget.cc')]);
		const r = await start(bin);
		const s = new Symbolizer();
		assert.deepEqual(one(s, r.pid, r.info.spin! + 4n), { name: 'fsq::Widget::spin(int)', module: 'widget', kind: 'user' });
	});
});

describe('kernel frames', () => {
	test('an address inside a kallsyms symbol', (t) => {
		const text = readFileSync('/proc/kallsyms', 'utf8');
		const table = parseKallsyms(text);
		if (!skipUnless(t, table.size === 0 ? 'needs root (kallsyms addresses are hidden)' : undefined)) return;
		const line = text.split('\n').find((l) => / [Tt] vfs_read$/.test(l));
		assert.ok(line !== undefined, 'vfs_read in kallsyms');
		const addr = BigInt(`0x${line.split(' ')[0]}`);
		const s = new Symbolizer();
		const frames = s.kernel([addr + 3n, addr + 1n]);
		assert.deepEqual(frames[0], { name: 'vfs_read', module: '[kernel.kallsyms]', kind: 'kernel' });
		// ip - 1 for a return address: addr + 1 - 1 is still vfs_read's first byte.
		assert.equal(frames[1]!.name, 'vfs_read');
		const before = s.kernel([addr + 3n, addr])[1]!;
		assert.notEqual(before.name, 'vfs_read');
	});

	test('an address inside a module symbol is named by it, with the module in brackets', (t) => {
		const text = readFileSync('/proc/kallsyms', 'utf8');
		if (!skipUnless(t, parseKallsyms(text).size === 0 ? 'needs root (kallsyms addresses are hidden)' : undefined)) return;
		const lines = text.split('\n');
		const mod = lines.find((l) => / [Tt] \w+\t\[\w+\]$/.test(l));
		// Not a missing prerequisite but a kernel without modules: skipped even where BPF is required.
		if (mod === undefined) return t.skip('no module or BPF program symbols in kallsyms');
		const [a, , name, module] = mod!.split(/[ \t]/);
		// Modules and BPF programs come and go: the symbolizer reads the same copy this test read.
		const dir = mkdtempSync(join(tmpdir(), 'fs-kallsyms-'));
		try {
			const path = join(dir, 'kallsyms');
			writeFileSync(path, text);
			const f = new Symbolizer({ kallsymsPath: path }).kernel([BigInt(`0x${a}`) + 1n])[0]!;
			// Aliases share an address; any of them names it, and nothing else does.
			const aliases = lines.filter((l) => l.startsWith(`${a} `) && l.endsWith(`\t${module}`)).map((l) => l.split(/[ \t]/)[2]);
			assert.ok(aliases.includes(name), 'the line itself is among the aliases');
			assert.ok(aliases.includes(f.name), `${f.name} is one of ${aliases.join(', ')}`);
			assert.equal(f.module, module);
			assert.equal(f.kind, 'kernel');
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	test('unknown kernel addresses are kept', () => {
		const s = new Symbolizer({ kallsymsPath: '/nonexistent' });
		assert.deepEqual(s.kernel([0xffffffff81000000n]), [
			{ name: '[kernel.kallsyms]+0xffffffff81000000', module: '[kernel.kallsyms]', kind: 'kernel' },
		]);
		assert.equal(s.stats().kernelMiss, 1);
	});
});

describe('JIT frames', () => {
	test('code in anonymous memory without a perf map is one [anon] frame, whatever its address', async () => {
		// Node's JIT code without --perf-basic-prof: anonymous executable memory no map names.
		const proc = spawn(process.execPath, ['-e', 'console.log(`pid=${process.pid}`); process.stdin.resume();'], {
			stdio: ['pipe', 'pipe', 'inherit'],
		});
		try {
			const pid = await new Promise<number>((resolve, reject) => {
				proc.stdout.once('data', (d: Buffer) => resolve(Number(/pid=(\d+)/.exec(d.toString())?.[1])));
				proc.once('exit', () => reject(new Error('node exited')));
			});
			const region = readFileSync(`/proc/${pid}/maps`, 'utf8')
				.split('\n')
				.find((l) => /^\S+ r.xp /.test(l) && l.trim().split(/\s+/).length === 5);
			assert.ok(region !== undefined, 'an anonymous executable region');
			const [lo, hi] = region
				.split(' ')[0]!
				.split('-')
				.map((h) => BigInt(`0x${h}`)) as [bigint, bigint];
			const s = new Symbolizer();
			// The address stays out of the name: each one made a new frame, and a new stack, in the store.
			const frames = s.user(pid, [lo + 0x10n, lo + (hi - lo) / 2n, hi - 0x10n]);
			for (const f of frames) assert.deepEqual(f, { name: '[anon]', module: '', kind: 'user' });
			assert.equal(s.stats().missNoSymbol, 3);
		} finally {
			proc.kill('SIGKILL');
		}
	});

	test('a named JS function in node --perf-basic-prof', async () => {
		const script = [
			'function fsHotLoop(n) { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i); return s; }',
			'const t = Date.now(); while (Date.now() - t < 150) fsHotLoop(1e4);',
			'console.log(`pid=${process.pid}`);',
			'process.stdin.resume();',
		].join('\n');
		// --perf-basic-prof also leaves a V8 isolate log in the working directory: use a scratch one.
		const cwd = mkdtempSync(join(tmpdir(), 'fs-jit-'));
		const proc = spawn(process.execPath, ['--perf-basic-prof', '-e', script], { cwd, stdio: ['pipe', 'pipe', 'inherit'] });
		const pid = await new Promise<number>((resolve, reject) => {
			proc.stdout.once('data', (d: Buffer) => resolve(Number(/pid=(\d+)/.exec(d.toString())?.[1])));
			proc.once('exit', () => reject(new Error('node exited')));
		});
		const mapPath = `/tmp/perf-${pid}.map`;
		try {
			const line = readFileSync(mapPath, 'utf8')
				.split('\n')
				.find((l) => l.includes('fsHotLoop'));
			assert.ok(line !== undefined, 'fsHotLoop in the perf map');
			const addr = BigInt(`0x${line.split(' ')[0]}`);
			const s = new Symbolizer();
			const [f] = s.user(pid, [addr + 1n]);
			assert.equal(f!.kind, 'jit');
			assert.equal(f!.module, '[jit]');
			assert.match(f!.name, /^fsHotLoop\b/);
			assert.ok(s.stats().jitSymbolized! >= 1);
		} finally {
			proc.kill('SIGKILL');
			rmSync(mapPath, { force: true });
			rmSync(cwd, { recursive: true, force: true });
		}
	});
});
