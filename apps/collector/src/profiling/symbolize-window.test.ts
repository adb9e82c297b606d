import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DrainedWindow } from '@firesight/native';
import { ProfileBuilder } from '@firesight/profile';
import { limits } from '@firesight/protocol';
import { Symbolizer } from '@firesight/symbolize';
import { symbolizeWindow, type WireCuts } from './symbolize-window.ts';

const EFAULT = -14;

test('a function name over the wire limit is cut keeping its end, and counted', async () => {
	// A real binary with a 5,000-character symbol, symbolized from its live process; only the
	// kernel's part (the sampled stack) is made up.
	const name = `ns_${'x'.repeat(4980)}_the_method_name`;
	assert.ok(name.length > 5000 - 2 && name.length > limits.frameName);
	const dir = mkdtempSync(join(tmpdir(), 'firesight-longname-'));
	const bin = join(dir, 'longname');
	writeFileSync(join(dir, 'longname.c'), `#include <unistd.h>\nvoid ${name}(void) { for (;;) pause(); }\nint main(void) { ${name}(); }\n`);
	execFileSync('clang', ['-O0', '-no-pie', '-fno-pie', '-o', bin, join(dir, 'longname.c')]);
	const nm = execFileSync('nm', [bin], { encoding: 'utf8' });
	const addr = BigInt(
		`0x${
			nm
				.split('\n')
				.find((l) => l.endsWith(` ${name}`))!
				.split(' ')[0]
		}`,
	);
	const child = spawn(bin, { stdio: 'ignore' });
	try {
		await new Promise((r) => child.once('spawn', r));
		const pid = child.pid!;
		const window: DrainedWindow = {
			counts: [{ pid, userStackId: 1, kernelStackId: EFAULT, comm: 'longname', count: 3 }],
			stacks: new Map([[1, [addr + 4n]]]),
			counters: {} as DrainedWindow['counters'],
			replayed: 0,
			totals: {} as DrainedWindow['totals'],
			unmappedPids: [],
			wantedFiles: [],
		};
		const builder = new ProfileBuilder({ startMs: 0, durationMs: 0, frequencyHz: 99 });
		const cuts: WireCuts = { frames: 0 };
		// The process must have mapped its binary before the symbolizer looks.
		const symbolizer = new Symbolizer();
		for (const deadline = Date.now() + 10_000; ;) {
			symbolizer.observe(pid);
			const probe = symbolizer.user(pid, [addr + 4n]);
			if (probe[0]?.name === name) break;
			assert.ok(Date.now() < deadline, `never symbolized: ${probe[0]?.name.slice(0, 60)}`);
			await new Promise((r) => setTimeout(r, 50));
		}
		symbolizeWindow(window, symbolizer, builder, cuts);
		const profile = builder.build();
		const frame = profile.frames[profile.samples[0]!.stack.at(-1)!]!;
		assert.equal(frame.name.length, limits.frameName);
		assert.ok(frame.name.startsWith('…'));
		assert.ok(frame.name.endsWith('_the_method_name'));
		assert.equal(cuts.frames, 1);
		assert.equal(profile.samples[0]!.weight, 3);
	} finally {
		child.kill();
		rmSync(dir, { recursive: true, force: true });
	}
});
