import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UnwindTable } from '@firesight/unwind';
import { TableBuilder } from './table-builder.ts';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

test('tables are built on a worker thread and read back from the disk cache by the next builder', async (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-unwind-cache-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const first = new TableBuilder(dir);
	// The first readable path wins: a missing one is passed over.
	const built = await first.build([join(dir, 'missing'), LIBC]);
	await first.close();
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

	// A restarted collector: the same table, from disk.
	const second = new TableBuilder(dir, { idleMs: 50 });
	t.after(() => second.close());
	const again = await second.build([LIBC]);
	assert.ok(again.ok);
	assert.equal(again.from, 'disk');
	assert.equal(again.key, built.key);
	assert.deepEqual(again.bytes, built.bytes);

	// Idle, the worker goes (and its heap with it); the next build starts another.
	assert.ok(second.running);
	await waitFor(() => !second.running);
	const third = await second.build([LIBC]);
	assert.ok(third.ok && third.from === 'disk');
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
