import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { test } from 'node:test';
import { Profile as PprofProfile } from 'pprof-format';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { compileFixture, startWorkload } from '@firesight/testing/workloads';

const firesightBin = fileURLToPath(new URL('../../bin/firesight.js', import.meta.url));

const cli = (...args: string[]) => spawnSync(process.execPath, [firesightBin, ...args], { encoding: 'utf8' });

test('bad arguments: one line on stderr, exit code 2, nothing on stdout', () => {
	for (const args of [
		['record', '--frequency', '0'],
		['record', '--duration', 'soon'],
		['record', '--format', 'svg'],
		['record', '--pid', 'abc'],
		['record', '--bogus'],
		['record', 'extra'],
		['nosuchcommand'],
	]) {
		const r = cli(...args);
		assert.equal(r.status, 2, `${args.join(' ')} exited ${r.status}`);
		assert.equal(r.stdout, '');
		assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
		assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/, 'no stack trace');
	}
	for (const name of ['record', 'up', 'collector', 'hub', 'query']) {
		const r = cli(name, '--help');
		assert.equal(r.status, 0);
		assert.match(r.stdout, new RegExp(`Usage: firesight ${name}`));
	}
});

test('record --format pprof writes a profile another pprof reader accepts', async (t) => {
	if (!skipUnlessBpf(t)) return;
	const bin = compileFixture('split-60-40');
	t.after(bin.cleanup);
	const w = await startWorkload(bin.path);
	t.after(w.stop);
	const dir = mkdtempSync(join(tmpdir(), 'firesight-record-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const out = join(dir, 'x.pb.gz');

	const r = cli('record', '--pid', String(w.pid), '--duration', '2', '--frequency', '199', '--output', out);
	assert.equal(r.status, 0, r.stderr);
	// Decoded with pprof-format directly, not with our importer.
	const p = PprofProfile.decode(gunzipSync(readFileSync(out)));
	const str = (i: number | bigint) => p.stringTable.strings[Number(i)] ?? '';
	assert.deepEqual(p.sampleType.map((s) => `${str(s.type)}/${str(s.unit)}`), ['samples/count', 'cpu/nanoseconds']);
	assert.equal(`${str(p.periodType!.type)}/${str(p.periodType!.unit)}`, 'cpu/nanoseconds');
	assert.equal(Number(p.period), Math.round(1e9 / 199));
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
	assert.ok(total > 100, `only ${total} samples`);
	assert.ok(Math.abs((100 * hotA) / total - 60) < 10, `hot_a ${((100 * hotA) / total).toFixed(1)}%`);
});
