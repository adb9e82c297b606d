import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { canonical } from '../fixtures/known-profile.ts';
import { goPprofTop } from '../fixtures/go-pprof-top.ts';
import { importProfile, type ImportFormat } from './import-profile.ts';
import { toPprof } from './pprof.ts';
import type { Profile } from './profile.ts';
import { totalWeight } from './profile.ts';
import { topFunctions } from './top-functions.ts';

// Profiles written by tools nobody here wrote: Go's runtime/pprof, node --cpu-prof, perf script.

const dir = mkdtempSync(join(tmpdir(), 'firesight-foreign-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const goEnv = { ...process.env, GOCACHE: join(dir, 'gocache'), GOPATH: join(dir, 'gopath'), GOFLAGS: '', HOME: dir };

const GO_PROGRAM = `package main

import (
	"os"
	"runtime/pprof"
	"time"
)

//go:noinline
func hotLoop(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i % 7
	}
	return s
}

//go:noinline
func coldLoop(n int) int { return hotLoop(n / 4) }

func main() {
	if len(os.Args) > 1 {
		f, err := os.Create(os.Args[1])
		if err != nil {
			panic(err)
		}
		pprof.StartCPUProfile(f)
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	deadline := time.Now().Add(1200 * time.Millisecond)
	s := 0
	for time.Now().Before(deadline) {
		s += hotLoop(1 << 20)
		s += coldLoop(1 << 20)
	}
	if s == 42 {
		println(s)
	}
}
`;

let goBinary: string | undefined;
/** Builds the Go program once, with Debian's Go and the standard library only. */
function buildGo(): string {
	if (goBinary) return goBinary;
	const src = join(dir, 'goprog');
	execFileSync('mkdir', ['-p', src]);
	writeFileSync(join(src, 'main.go'), GO_PROGRAM);
	goBinary = join(src, 'hotprog');
	execFileSync('go', ['build', '-o', goBinary, 'main.go'], { cwd: src, env: goEnv, stdio: 'pipe' });
	return goBinary;
}

/** Export, import, export again: the same stacks and counts each time, and go tool pprof reads each export. */
function assertRoundTrip(profile: Profile): void {
	const first = toPprof(profile);
	const again = importProfile(first);
	assert.equal(again.format, 'pprof');
	assert.deepEqual(canonical(again.profile), canonical(profile));
	const second = toPprof(again.profile);
	assert.deepEqual(canonical(importProfile(second).profile), canonical(profile));
	for (const bytes of [first, second]) assertSameTop(bytes, profile);
}

/** `go tool pprof -top` shows the same functions, self and total, and the same total as the page's table. */
function assertSameTop(pprof: Uint8Array, profile: Profile): void {
	const top = goPprofTop(pprof);
	assert.equal(top.total, totalWeight(profile));
	// pprof merges functions by name; so does this expectation.
	const expected = new Map<string, { flat: number; cum: number }>();
	for (const row of topFunctions(profile)) {
		const e = expected.get(row.name) ?? { flat: 0, cum: 0 };
		expected.set(row.name, { flat: e.flat + row.self, cum: Math.max(e.cum, row.total) });
	}
	const seen = new Map(top.rows.map((r) => [r.name, { flat: r.flat, cum: r.cum }]));
	for (const [name, want] of [...expected].sort((a, b) => b[1].flat - a[1].flat).slice(0, 10)) {
		assert.deepEqual(seen.get(name)?.flat, want.flat, `${name} self`);
	}
	assert.equal(
		top.rows.reduce((sum, r) => sum + r.flat, 0),
		totalWeight(profile),
	);
}

function imported(bytes: Uint8Array, format: ImportFormat): Profile {
	const result = importProfile(bytes);
	assert.equal(result.format, format);
	return result.profile;
}

test("Go's runtime/pprof: names, files and lines kept; go tool pprof agrees before and after the round trip", () => {
	const binary = buildGo();
	const file = join(dir, 'go-cpu.pb.gz');
	execFileSync(binary, [file], { env: goEnv });
	const original = readFileSync(file);
	const profile = imported(original, 'pprof');
	assert.ok(totalWeight(profile) > 0);
	// Under CPU contention the preemption signal's handler can take the most leaf samples, so the
	// hot loop is asserted on its inclusive share, and the flat counts against go tool pprof's.
	const row = topFunctions(profile).find((r) => r.name === 'main.hotLoop');
	assert.ok(row && row.total > totalWeight(profile) / 2, `main.hotLoop ${row?.total} of ${totalWeight(profile)}`);
	const hot = profile.frames.find((f) => f.name === 'main.hotLoop');
	assert.ok(hot?.file?.endsWith('main.go'), JSON.stringify(hot));
	assert.ok((hot?.line ?? 0) > 0, JSON.stringify(hot));
	assert.equal(hot?.module, 'hotprog');
	// The standard toolchain reads Go's own file and Firesight's import the same way.
	const theirs = goPprofTop(original);
	assert.equal(theirs.total, totalWeight(profile));
	assert.equal(
		theirs.rows.find((r) => r.name === 'main.hotLoop')?.flat,
		topFunctions(profile).find((r) => r.name === 'main.hotLoop')?.self,
	);
	assertRoundTrip(profile);
});

test('node --cpu-prof: the hot JS function with its script and line; round trip', () => {
	const script = join(dir, 'busy.js');
	writeFileSync(
		script,
		`function hotFunction(n) {\n\tlet s = 0;\n\tfor (let i = 0; i < n; i++) s += Math.sqrt(i) % 3;\n\treturn s;\n}\nconst end = Date.now() + 1000;\nlet total = 0;\nwhile (Date.now() < end) total += hotFunction(1e5);\nif (total === 42) console.log(total);\n`,
	);
	const out = join(dir, 'cpuprof');
	execFileSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', out, script], { stdio: 'pipe' });
	const [name] = readdirSync(out).filter((f) => f.endsWith('.cpuprofile'));
	assert.ok(name, 'node wrote a .cpuprofile');
	const profile = imported(readFileSync(join(out, name)), 'cpuprofile');
	const hot = profile.frames.find((f) => f.name === 'hotFunction');
	assert.ok(hot, 'hotFunction is a frame');
	assert.equal(hot.module, 'busy.js');
	assert.equal(hot.line, 1);
	assert.ok(hot.file?.endsWith('busy.js'));
	const row = topFunctions(profile).find((r) => r.name === 'hotFunction')!;
	assert.ok(row.total > totalWeight(profile) / 2, `hotFunction ${row.total} of ${totalWeight(profile)}`);
	// node samples every millisecond when it gets the CPU; a loaded machine stretches the intervals.
	assert.ok(profile.frequencyHz >= 10 && profile.frequencyHz < 10_000, String(profile.frequencyHz));
	assertRoundTrip(profile);
});

test('perf script of perf record -g, folded by the project: the hot Go function, its process and pid', () => {
	const binary = buildGo();
	const data = join(dir, 'perf.data');
	execFileSync('perf', ['record', '-q', '-e', 'cpu-clock', '-F', '499', '-g', '-o', data, '--', binary], { stdio: 'pipe', env: goEnv });
	const text = execFileSync('perf', ['script', '-i', data], { maxBuffer: 256 * 1024 * 1024 });
	const profile = imported(text, 'perf-script');
	const row = topFunctions(profile).find((r) => r.name === 'main.hotLoop');
	assert.ok(row && row.total > totalWeight(profile) / 2, `main.hotLoop ${row?.total} of ${totalWeight(profile)}`);
	assert.ok(profile.samples.some((s) => s.comm === 'hotprog' && s.pid > 0));
	assert.equal(profile.frames.find((f) => f.name === 'main.hotLoop')?.module, 'hotprog');
	assert.equal(profile.frequencyHz, 499);
	assertRoundTrip(profile);
});
