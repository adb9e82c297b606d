import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, test, type TestContext } from 'node:test';
import { bpfUnavailableReason, skipUnless } from '@firesight/testing/bpf-test-gate';
import { buildGoFixture, startPerfRecord, startWorkload } from '@firesight/testing/workloads';
import { sampleRunning } from './c-program-sampling.ts';

/*
 * Go's runtime switches stacks: runtime.systemstack, mcall and morestack run their callee on the
 * thread's g0 stack, away from the goroutine's, and the allocator runs there. The walker takes
 * Go's rows from its function table (.gopclntab), where those functions find their caller by
 * frame pointers, wherever on the other stack it is. Before, a stripped Go binary's chain was cut
 * at the switch (counted as frame pointers lost), and one with DWARF ended there, uncounted.
 *
 * The oracle is perf record -g: Go keeps frame pointers, and the kernel's walk of them follows a
 * switch (it does not ask that callers lie above). Ours should end all but a few stacks at an
 * outermost frame, as perf's do, those under runtime.systemstack too, and reach main from there
 * about as often (the rest are the garbage collector's workers).
 */
const FREQUENCY = 499;
const CPU_SECONDS = 2;
/** How many fewer of ours than of perf's samples may end at an outermost frame. */
const WHOLE_TOLERANCE = 0.02;
/** At least this share of perf's share of samples under systemstack reaching main. */
const MAIN_SHARE = 0.7;

/**
 * Where Go's own tracebacks end (funcFlag TOPFRAME): runtime.goexit every goroutine's stack,
 * mstart and rt0_go a thread's g0 stack, sigtramp a signal handler's.
 */
const OUTERMOST = /^runtime\.(goexit|mstart|rt0_go|sigtramp)(\.abi0)?$/;

type Stack = { frames: string[]; count: number };

function ready(t: TestContext): boolean {
	const perf = spawnSync('perf', ['--version']).status === 0 ? undefined : 'needs perf (Debian package linux-perf)';
	const go = spawnSync('go', ['version']).status === 0 ? undefined : 'needs Go (Debian package golang-go)';
	return skipUnless(t, bpfUnavailableReason(), perf, go);
}

/** Share (0-1) of the samples of `stacks` that satisfy `test`. */
function share(stacks: readonly Stack[], test: (frames: string[]) => boolean): number {
	const total = stacks.reduce((n, s) => n + s.count, 0);
	return total === 0 ? 0 : stacks.filter((s) => test(s.frames)).reduce((n, s) => n + s.count, 0) / total;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

interface Sampled {
	/** User frames, root first. */
	ours: Stack[];
	perf: Stack[];
	lost: number;
}

/**
 * Ours on `binary` and perf -g on `perfBinary` (the same program with its symbols, where ours
 * runs stripped, as perf names nothing from Go's function table) until ours has had CPU_SECONDS.
 */
async function sampleGo(t: TestContext, binary: string, perfBinary: string): Promise<Sampled> {
	const w = await startWorkload(binary);
	t.after(w.stop);
	const twin = perfBinary === binary ? w : await startWorkload(perfBinary);
	t.after(twin.stop);
	let perf: Stack[] = [];
	const { stacks, grew } = await sampleRunning(t, w.pid, { frequency: FREQUENCY, cpuSeconds: CPU_SECONDS }, () => {
		const recording = startPerfRecord(twin.pid, FREQUENCY, { callGraph: 'fp' });
		return async () => void (perf = await recording.stop());
	});
	return {
		ours: stacks.map((s) => ({ frames: s.user, count: s.count })),
		perf: perf.map((s) => ({ frames: [...s.frames].reverse().filter((f) => f !== '[unknown]'), count: s.count })),
		lost: grew('unwindFramePointerLost'),
	};
}

function compare(t: TestContext, label: string, { ours, perf, lost }: Sampled): void {
	const underSwitch = (frames: string[]) => frames.some((f) => /^runtime\.systemstack(\.abi0)?$/.test(f));
	const reachesMain = (frames: string[]) => frames.includes('main.main') || frames.includes('main.deep');
	const outermost = (frames: string[]) => OUTERMOST.test(frames[0] ?? '');
	const oursSwitched = ours.filter((s) => underSwitch(s.frames));
	const perfSwitched = perf.filter((s) => underSwitch(s.frames));
	const whole = share(ours, outermost);
	const perfWhole = share(perf, outermost);
	const crossed = share(oursSwitched, outermost);
	const through = share(oursSwitched, reachesMain);
	const perfThrough = share(perfSwitched, reachesMain);
	const total = ours.reduce((n, s) => n + s.count, 0);
	const switched = oursSwitched.reduce((n, s) => n + s.count, 0);
	const cut = ours.find((s) => !outermost(s.frames));
	t.diagnostic(
		`${label}: ${total} samples, ${pct(whole)} end at an outermost frame; ${switched} under systemstack, ${pct(crossed)} of them end at one, ${pct(through)} reach main; unwindFramePointerLost ${lost}`,
	);
	t.diagnostic(
		`perf -g: ${perf.reduce((n, s) => n + s.count, 0)} samples, ${pct(perfWhole)} end at an outermost frame; ${pct(perfThrough)} of those under systemstack reach main`,
	);
	t.diagnostic(
		`e.g. ${oursSwitched.find((s) => reachesMain(s.frames))?.frames.join(';') ?? '(none reached main)'}; not whole: ${cut?.frames.join(';') ?? '(none)'}`,
	);
	assert.ok(total >= 300 && switched >= 30, `${label}: ${total} samples, ${switched} under systemstack`);
	assert.equal(lost, 0, `${label}: no chain cut`);
	// All but a few stacks are whole, as perf's are: a cut at a switch leaves 10 to 40% of them not.
	assert.ok(whole >= perfWhole - WHOLE_TOLERANCE, `${label}: ${pct(whole)} end at an outermost frame, perf ${pct(perfWhole)}`);
	assert.ok(
		crossed >= 1 - WHOLE_TOLERANCE,
		`${label}: only ${pct(crossed)} of the stacks under systemstack cross it to an outermost frame`,
	);
	// Which goroutines allocate (main's, or the garbage collector's workers) varies between samplings by a
	// few points; a cut at the switch reaches main in under a fifth of perf's share.
	assert.ok(through >= MAIN_SHARE * perfThrough, `${label}: ${pct(through)} under systemstack reach main, perf ${pct(perfThrough)}`);
}

describe('Go stacks across its stack switches', () => {
	let go: ReturnType<typeof buildGoFixture> | undefined;
	const fixture = () => (go ??= buildGoFixture('go-stacks'));
	after(() => go?.cleanup());

	test('a Go program with DWARF: its allocations on the g0 stack are walked to main, as perf -g walks them', async (t) => {
		if (!ready(t)) return;
		compare(t, 'with DWARF', await sampleGo(t, fixture().path, fixture().path));
	});

	test('a stripped Go binary: walked and named from its function table alone, as perf -g walks its twin with symbols', async (t) => {
		if (!ready(t)) return;
		compare(t, 'stripped', await sampleGo(t, fixture().stripped, fixture().path));
	});
});
