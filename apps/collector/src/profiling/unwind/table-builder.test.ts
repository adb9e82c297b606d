import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UnwindTable } from '@firesight/unwind';
import { TableBuilder } from './table-builder.ts';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const PYTHON = '/usr/bin/python3.11';

test('tables are built on a worker thread, and read back from the disk cache without one by the next builder', async (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-unwind-cache-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const first = new TableBuilder(dir, { idleMs: 50 });
	t.after(() => first.close());
	// The first readable path wins: a missing one is passed over.
	const built = await first.build([join(dir, 'missing'), LIBC]);
	assert.ok(built.ok, built.ok ? '' : built.error);
	assert.equal(built.from, 'built');
	assert.match(built.key, /^b-[0-9a-f]+$/, 'libc is known by its build-id');
	assert.ok(built.bytes !== undefined && built.rows > 1000, `${built.rows} rows`);
	assert.equal(new UnwindTable(built.bytes).rowCount, built.rows);
	assert.ok(
		built.segments.some((s) => s.type === 1 && (s.flags & 1) !== 0),
		'the executable segment comes along for the bias',
	);
	assert.equal(readdirSync(dir).filter((f) => f.endsWith('.fsuw')).length, 1);
	// Idle, the worker goes (and its heap with it).
	assert.ok(first.running);
	await waitFor(() => !first.running);

	// A restarted collector: the same table, from disk, read without starting a worker.
	const second = new TableBuilder(dir);
	t.after(() => second.close());
	const again = await second.build([LIBC]);
	assert.ok(again.ok);
	assert.equal(again.from, 'disk');
	assert.equal(again.key, built.key);
	assert.ok(again.bytes !== undefined);
	assert.deepEqual(Buffer.from(again.bytes), Buffer.from(built.bytes));
	assert.deepEqual(again.segments, built.segments);
	assert.equal(second.running, false, 'no worker for a table on disk');

	// A file whose table is not on disk starts one again.
	const python = await second.build([PYTHON]);
	assert.ok(python.ok && python.from === 'built');
	assert.ok(second.running);
});

test('a small file is built on the main thread: no worker starts for it', async (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-unwind-cache-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const builder = new TableBuilder(dir);
	t.after(() => builder.close());
	// A few KiB of .eh_frame, like the many small programs a busy host starts.
	const r = await builder.build(['/usr/bin/true']);
	assert.ok(r.ok && r.from === 'built' && r.rows > 1, r.ok ? r.from : r.error);
	assert.equal(builder.running, false);
	assert.equal(readdirSync(dir).filter((f) => f.endsWith('.fsuw')).length, 1, 'and written to the disk cache');
});

test('closing the builder while its worker starts up returns, and the process goes on', async () => {
	// A worker stopped while it starts may never report its exit: a close() that waited for it
	// was left behind by an event loop with nothing else to do, and the process ended there
	// (record then never wrote its output). Each round closes a worker just started.
	const builder = new URL('./table-builder.ts', import.meta.url).href;
	const script = `
		import { mkdtempSync, rmSync } from 'node:fs';
		import { tmpdir } from 'node:os';
		import { join } from 'node:path';
		import { TableBuilder } from ${JSON.stringify(builder)};
		for (let round = 0; round < 12; round++) {
			const dir = mkdtempSync(join(tmpdir(), 'firesight-unwind-close-'));
			const b = new TableBuilder(dir);
			const r = b.build([${JSON.stringify(LIBC)}]);
			while (!b.running) await new Promise((res) => setImmediate(res));
			await b.close();
			await r;
			rmSync(dir, { recursive: true, force: true });
		}
		console.log('closed every time');`;
	const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
		const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
		let text = '';
		child.stdout.on('data', (d: Buffer) => (text += d.toString()));
		child.stderr.on('data', (d: Buffer) => (text += d.toString()));
		child.once('exit', (code) => resolve({ code, text }));
	});
	assert.equal(out.code, 0, out.text);
	assert.match(out.text, /^closed every time$/m);
});

async function waitFor(cond: () => boolean): Promise<void> {
	const deadline = Date.now() + 30_000;
	while (!cond()) {
		if (Date.now() > deadline) throw new Error('condition not met within 30 s');
		await new Promise((r) => setTimeout(r, 20));
	}
}

test('a file that is not ELF, or no file at all, is a failed result, not an exception', async (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-unwind-cache-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const builder = new TableBuilder(dir);
	t.after(() => builder.close());
	const notElf = await builder.build(['/proc/self/status']);
	assert.equal(notElf.ok, false);
	const none = await builder.build([join(dir, 'nothing-here')]);
	assert.equal(none.ok, false);
	if (!none.ok) assert.match(none.error, /nothing-here/);
});

test('a file with more unwind info than the walker could hold is refused before it is built', async (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-unwind-cache-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	// libc has about 150 KiB of .eh_frame.
	const builder = new TableBuilder(dir, { maxSectionBytes: 64 * 1024 });
	t.after(() => builder.close());
	const r = await builder.build([LIBC]);
	assert.equal(r.ok, false);
	assert.ok(!r.ok && r.tooLarge, 'refused as too large');
	assert.deepEqual(readdirSync(dir), [], 'nothing built, nothing cached');
});
