import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { filterProfile, toFolded } from '@firesight/profile';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { compileFixture, foldedStacks, NO_FRAME_POINTER_FLAGS, startWorkload } from '@firesight/testing/workloads';
import { stopped } from './c-program-sampling.ts';
import { ProfileSampler } from './profile-sampler.ts';

/*
 * A program without frame pointers that starts after the sampler: from its first samples on, its
 * stacks must be whole (main → run_rounds → leaf). It has no build-id, so its table is built when
 * it starts: its samples of the hundreds of milliseconds before it is described and its table
 * loaded are walked again once it is (deferred), none cut.
 */

const FREQUENCY = 499;
const CHAIN = /;main;run_rounds;hot_[ab]$/;
/*
 * A sample in main's own calls outside the hot loop (its output's fflush, say) is whole too, as
 * is one under ld.so's lazy-binding resolver as main's first call of a libc function binds it
 * (unwind-lazy-binding.test.ts).
 */
const FROM_START = /^;[^;]+;_start;__libc_start_main[^;]*;__libc_start_call_main;main;/;
/*
 * A sample in the dynamic loader before main: whole when it reaches the loader's entry code, which
 * calls _dl_start (relocating, loading), then _dl_init (the libraries' initializers).
 */
const LOADER = /^;[^;]+;ld-linux[^;]*;_dl_(start|init)(;|$)/;
/**
 * A sample at the loader's first instruction, its entry (unnamed: not in its dynamic symbols),
 * before it calls _dl_start: the outermost frame, alone. The entry is readelf's.
 */
function loaderEntryAlone(program: string): RegExp {
	const interpreter = /program interpreter: ([^\]]+)\]/.exec(execFileSync('readelf', ['-l', program], { encoding: 'utf8' }))![1]!;
	const entry = /Entry point address:\s+(0x[0-9a-f]+)/.exec(execFileSync('readelf', ['-h', interpreter], { encoding: 'utf8' }))![1]!;
	return new RegExp(`^;[^;]+;${basename(interpreter).replace(/\./g, '\\.')}\\+${entry}$`);
}

test('a program started after the sampler has whole stacks from its first second on', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const bin = compileFixture('split-60-40', { compiler: 'gcc', flags: [...NO_FRAME_POINTER_FLAGS, '-Wl,--build-id=none'] });
	t.after(bin.cleanup);
	const sampler = new ProfileSampler({ frequency: FREQUENCY, windowMs: Number.MAX_SAFE_INTEGER, tickMs: 0, unwind: 'auto' });
	t.after(() => void sampler.stop());
	// As the collector does: a drain every 500 ms. The program starts once the host's processes are known.
	const deadline = Date.now() + 120_000;
	while (sampler.warmingUp && Date.now() < deadline) {
		await sleep(500);
		await sampler.tick();
	}
	assert.equal(sampler.warmingUp, false, 'the warm-up ended within its 30 s');
	sampler.closeWindow();
	const w = await startWorkload(bin.path);
	t.after(w.stop);
	// The window holds the program's first second.
	let stats = await sampler.tick();
	const before = stats.counters;
	for (let i = 0; i < 2; i++) {
		await sleep(500);
		stats = await sampler.tick();
	}
	// The pid's samples before its exec are node's (the test runner's child before the program):
	// marked so, and not the program's.
	const stacks = foldedStacks(toFolded(filterProfile(sampler.closeWindow(), { pids: [w.pid] }))).filter(
		(s) => !s.frames.includes('[before exec]'),
	);
	const user = (s: { frames: string[] }) => ';' + s.frames.filter((f) => !f.endsWith('_[k]')).join(';');
	const total = stacks.reduce((n, s) => n + s.count, 0);
	const atLoaderEntry = loaderEntryAlone(bin.path);
	const isWhole = (s: { frames: string[] }) =>
		CHAIN.test(user(s)) || FROM_START.test(user(s)) || LOADER.test(user(s)) || atLoaderEntry.test(user(s));
	const whole = stacks.filter(isWhole).reduce((n, s) => n + s.count, 0);
	const cut = stacks.filter((s) => !isWhole(s)).sort((a, b) => b.count - a.count)[0];
	const summary = `${whole} of ${total} samples of its first second had main → run_rounds → leaf (or reached main from _start, or were in the loader, from its entry); e.g. a cut one: ${cut ? user(cut) : '(none)'}`;
	const deferred = stats.counters.unwindDeferred - before.unwindDeferred;
	const pending = stats.counters.unwindTablePending - before.unwindTablePending;
	const ends = Object.entries(stats.counters)
		.map(([name, n]) => [name, n - before[name as keyof typeof before]] as const)
		.filter(([name, n]) => name.startsWith('unwind') && n > 0)
		.map(([name, n]) => `${name} ${n}`)
		.join(', ');
	t.diagnostic(
		`${summary}; host-wide meanwhile: ${deferred} samples deferred, ${pending} unwindTablePending (${ends || 'no unwinder counts'})`,
	);
	assert.ok(total >= 50, `only ${total} samples of a busy program in its first second: ${summary}`);
	// Every one, unless the host deferred more than the ring or the collector's queue holds
	// meanwhile (a compiler whose big table is being built, say): those are walked at once and
	// counted as such, which the soak's drops would show.
	const overflowed =
		stats.counters.unwindDeferRingFull - before.unwindDeferRingFull + stats.counters.unwindDeferQueueFull - before.unwindDeferQueueFull;
	if (overflowed === 0) assert.equal(whole, total, summary);
	else assert.ok(whole >= 0.5 * total, summary);
	// Its first samples came before its table was in: they are the deferred ones, now whole.
	assert.ok(deferred > 0, `no sample was deferred: ${summary}`);
});

/*
 * The same program exec'd by a stopped shell the sampler was told to profile by pid: the walker
 * knows the shell's mappings, not the program's, so every sample until the program is read again
 * and its table built would end pending. The pid filter keeps the counters to this one process,
 * so none of them may be counted as unwindTablePending, or lost: they are deferred and come back
 * whole.
 */
test('a process that execs a program has whole stacks from its first samples, deferred until its table is in, none pending', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const bin = compileFixture('split-60-40', { compiler: 'gcc', flags: [...NO_FRAME_POINTER_FLAGS, '-Wl,--build-id=none'] });
	t.after(bin.cleanup);
	const shell = spawn('sh', ['-c', 'kill -STOP $$; exec "$0"', bin.path], { stdio: 'ignore' });
	const pid = shell.pid!;
	t.after(() => void shell.kill('SIGKILL'));
	for (const deadline = Date.now() + 10_000; !stopped(pid);) {
		assert.ok(Date.now() < deadline, 'the shell stopped itself');
		await sleep(10);
	}
	const sampler = new ProfileSampler({ frequency: FREQUENCY, pids: [pid], windowMs: Number.MAX_SAFE_INTEGER, tickMs: 0, unwind: 'auto' });
	t.after(() => void sampler.stop());
	await sampler.tick(); // the pid's filter and the shell's mappings are in
	process.kill(pid, 'SIGCONT');
	let stats = await sampler.tick();
	for (let i = 0; i < 3; i++) {
		await sleep(500);
		stats = await sampler.tick();
	}
	const all = foldedStacks(toFolded(filterProfile(sampler.closeWindow(), { pids: [pid] })));
	const count = (stacks: typeof all) => stacks.reduce((n, s) => n + s.count, 0);
	// Its samples in the exec itself are the shell's (its name, its user stack), not the program's.
	const stacks = all.filter((s) => s.frames[0] !== 'sh');
	const user = (s: { frames: string[] }) => ';' + s.frames.filter((f) => !f.endsWith('_[k]')).join(';');
	const total = count(stacks);
	const whole = count(stacks.filter((s) => CHAIN.test(user(s))));
	const cut = stacks.filter((s) => !CHAIN.test(user(s))).sort((a, b) => b.count - a.count)[0];
	const k = stats.counters;
	const summary = `${whole} of ${total} samples had main → run_rounds → leaf (a cut one: ${cut ? user(cut) : '(none)'}), ${count(all) - total} in the shell's exec; deferred ${k.unwindDeferred}, unwindTablePending ${k.unwindTablePending}, ring full ${k.unwindDeferRingFull}, queue full ${k.unwindDeferQueueFull}, read faults ${k.unwindReadFault}`;
	t.diagnostic(summary);
	assert.ok(total >= 50, `only ${total} samples of a busy program: ${summary}`);
	assert.ok(k.unwindDeferred > 0, `nothing was deferred: ${summary}`);
	assert.equal(k.unwindTablePending, 0, summary);
	assert.equal(k.unwindDeferRingFull + k.unwindDeferQueueFull, 0, summary);
	// Every sample the kernel took of it is in the window: a deferred one comes back, none vanish.
	assert.equal(count(all), k.samples, `${summary}; the kernel took ${k.samples}`);
	// Its samples in the dynamic loader before main are not main's: at most a few at this rate.
	assert.ok(whole >= total - 3, summary);
});
