import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus as onlineCpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { test } from 'node:test';
import { Profile as PprofProfile } from 'pprof-format';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { compileFixture, startWorkload } from '@firesight/testing/workloads';

const firesightBin = fileURLToPath(new URL('../../bin/firesight.js', import.meta.url));

const cli = (...args: string[]) => spawnSync(process.execPath, [firesightBin, ...args], { encoding: 'utf8' });

/** Enough samples in a 2 s recording on a quiet machine. */
const FREQUENCY = 499;

test('record --format pprof writes a profile another pprof reader accepts', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const bin = compileFixture('split-60-40');
	t.after(bin.cleanup);
	const w = await startWorkload(bin.path);
	t.after(w.stop);
	const dir = mkdtempSync(join(tmpdir(), 'firesight-record-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const out = join(dir, 'x.pb.gz');

	// Decoded with pprof-format directly, not with our importer. On a busy machine the workload
	// gets a small share of a CPU: record longer until it has enough samples to judge shares by
	// (at 100, one run in 25 would fall outside 60% ± 10 by chance alone; at 400, none in 10,000).
	let p: PprofProfile | undefined;
	for (const seconds of [2, 4, 8, 16, 32]) {
		const r = cli('record', '--pid', String(w.pid), '--duration', String(seconds), '--frequency', String(FREQUENCY), '--output', out);
		assert.equal(r.status, 0, r.stderr);
		p = PprofProfile.decode(gunzipSync(readFileSync(out)));
		if (p.sample.reduce((n, s) => n + Number(s.value[0]), 0) > 400) break;
	}
	assert.ok(p);
	const str = (i: number | bigint) => p.stringTable.strings[Number(i)] ?? '';
	assert.deepEqual(
		p.sampleType.map((s) => `${str(s.type)}/${str(s.unit)}`),
		['samples/count', 'cpu/nanoseconds'],
	);
	assert.equal(`${str(p.periodType!.type)}/${str(p.periodType!.unit)}`, 'cpu/nanoseconds');
	assert.equal(Number(p.period), Math.round(1e9 / FREQUENCY));
	assert.ok(Number(p.durationNanos) >= 1.5e9, `duration ${p.durationNanos}`);
	assert.ok(Number(p.timeNanos) > 1.7e18, 'wall-clock start time is set');
	const names = new Map(p.function.map((f) => [Number(f.id), str(f.name)]));
	const locations = new Map(p.location.map((l) => [Number(l.id), l.line.map((ln) => names.get(Number(ln.functionId)))]));
	let total = 0;
	let hotA = 0;
	for (const s of p.sample) {
		const count = Number(s.value[0]);
		assert.equal(Number(s.value[1]), count * Number(p.period), 'cpu value is count × period');
		total += count;
		const frames = s.locationId.flatMap((id) => locations.get(Number(id)) ?? []);
		if (frames.includes('hot_a')) {
			hotA += count;
			// pprof lists a sample's locations leaf first.
			assert.ok(frames.indexOf('hot_a') < frames.indexOf('main'), `leaf-first order: ${frames.join(' <- ')}`);
		}
	}
	assert.ok(total > 400, `only ${total} samples`);
	assert.ok(Math.abs((100 * hotA) / total - 60) < 10, `hot_a ${((100 * hotA) / total).toFixed(1)}%`);
});

test('record --duration is honoured: the profile spans it, with no more samples than CPUs × frequency allow', async (t) => {
	if (!skipUnlessBpf(t)) return;
	// The profiler samples every online CPU; keep each of them busy, so the bound is nearly reached.
	// Node is the workload on purpose: its large binary takes the symbolizer a while the first
	// time, which once stretched a 1 s recording to several seconds of samples.
	const cpus = onlineCpus().length;
	const spin = "process.stdout.write('ready\\n'); for (;;) {}";
	const workloads = await Promise.all(Array.from({ length: cpus }, () => startWorkload(process.execPath, ['-e', spin])));
	t.after(() => workloads.forEach((w) => w.stop()));
	const dir = mkdtempSync(join(tmpdir(), 'firesight-record-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const out = join(dir, 'x.pb.gz');

	const seconds = 1;
	const frequency = 97;
	const r = cli('record', '--duration', String(seconds), '--frequency', String(frequency), '--output', out);
	assert.equal(r.status, 0, r.stderr);
	const p = PprofProfile.decode(gunzipSync(readFileSync(out)));
	const spanned = Number(p.durationNanos) / 1e9;
	let samples = 0;
	for (const s of p.sample) samples += Number(s.value[0]);
	const what = `${samples} samples over ${spanned.toFixed(2)} s on ${cpus} CPUs at ${frequency} Hz`;
	// Within a second of the duration asked for, and never shorter.
	assert.ok(spanned >= seconds * 0.95 && spanned <= seconds + 1, what);
	// No more samples than that span allows (5% and a few samples for the kernel's frequency tuning)...
	assert.ok(samples <= spanned * frequency * cpus * 1.05 + 5, what);
	assert.ok(samples <= (seconds + 1) * frequency * cpus, what);
	// ...and the busy CPUs were sampled, so the bound is not met by recording nothing.
	assert.ok(samples >= seconds * frequency * cpus * 0.5, what);
});
