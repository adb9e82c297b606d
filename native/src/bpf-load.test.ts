import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';

test('every BPF tool loads while the process is flooded with signals (node --cpu-prof)', async (t) => {
	if (!skipUnlessBpf(t)) return;
	// The verifier gives up with EAGAIN whenever a signal is pending for the loading thread, and
	// checking the walker takes from a quarter to a whole second. V8's CPU profiler sends its
	// main thread SIGPROF every interval, so a collector started under it never loaded.
	const dir = mkdtempSync(join(tmpdir(), 'firesight-cpu-prof-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const module = (name: string) => JSON.stringify(new URL(name, import.meta.url).href);
	const script = `
		import { Profiler } from ${module('./profiler.ts')};
		import { TlsTracer } from ${module('./tls-tracer.ts')};
		import { TcpTracer } from ${module('./tcp-tracer.ts')};
		for (const unwind of ['dwarf', 'auto']) new Profiler({ unwind }).close();
		new TlsTracer({ onEvents() {} }).close();
		new TcpTracer().close();
		console.log('loaded');`;
	for (let run = 0; run < 3; run++) {
		const child = spawn(
			process.execPath,
			['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '100', '--import', 'tsx', '--input-type=module', '-e', script],
			{ stdio: ['ignore', 'pipe', 'pipe'] },
		);
		let out = '';
		child.stdout.on('data', (d: Buffer) => (out += d.toString()));
		child.stderr.on('data', (d: Buffer) => (out += d.toString()));
		const code = await new Promise<number | null>((r) => child.once('exit', r));
		assert.equal(code, 0, `run ${run}: ${out}`);
		assert.match(out, /^loaded$/m);
	}
});
