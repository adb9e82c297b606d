import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { buildElfUnwindTable } from './elf-unwind.ts';
import { UnwindTableCache } from './table-cache.ts';
import { UnwindError } from './unwind-error.ts';
import { CfaKind } from './unwind-rule.ts';
import { HEADER_SIZE, RULE_SIZE, TABLE_VERSION, UnwindTable } from './unwind-table.ts';

const FIXTURE = new URL('../fixtures/known-frames.c', import.meta.url).pathname;

describe('the on-disk table cache', () => {
	const dir = mkdtempSync(join(tmpdir(), 'fs-unwind-cache-'));
	after(() => rmSync(dir, { recursive: true, force: true }));
	const withId = join(dir, 'with-build-id');
	const withoutId = join(dir, 'without-build-id');
	execFileSync('gcc', ['-O2', '-Wl,--build-id=sha1', '-o', withId, FIXTURE]);
	execFileSync('gcc', ['-O2', '-Wl,--build-id=none', '-o', withoutId, FIXTURE]);
	const cacheDir = join(dir, 'cache');

	test('a second cache over the same directory (a restart) reads the table instead of building it', () => {
		const first = new UnwindTableCache(cacheDir).tableFor(withId);
		assert.equal(first.from, 'built');
		const buildId = /Build ID: ([0-9a-f]+)/.exec(execFileSync('readelf', ['-n', withId], { encoding: 'utf8' }))?.[1];
		assert.equal(first.key, `b-${buildId}`);
		const restarted = new UnwindTableCache(cacheDir);
		const second = restarted.tableFor(withId);
		assert.equal(second.from, 'disk');
		assert.deepEqual(Buffer.from(second.table.bytes), Buffer.from(first.table.bytes));
		assert.deepEqual(restarted.stats(), { disk: 1, built: 0, unreadable: 0, writeFailed: 0 });
	});

	test('a look at the disk alone finds a table built before, and builds none itself', () => {
		const own = join(dir, 'look-only-cache');
		const cache = new UnwindTableCache(own);
		assert.equal(cache.cachedTableFor(withId), undefined);
		assert.equal(existsSync(own), false, 'nothing built, nothing written');
		const built = cache.tableFor(withId);
		const found = new UnwindTableCache(own).cachedTableFor(withId);
		assert.ok(found);
		assert.equal(found.key, built.key);
		assert.deepEqual(Buffer.from(found.table.bytes), Buffer.from(built.table.bytes));
	});

	test('without a build-id the key is device+inode+size+mtime, and a rewritten file gets a new one', () => {
		const cache = new UnwindTableCache(cacheDir);
		const a = cache.tableFor(withoutId);
		assert.match(a.key, /^i-\d+-\d+-\d+-\d+$/);
		assert.equal(cache.tableFor(withoutId).from, 'disk');
		execFileSync('gcc', ['-O0', '-Wl,--build-id=none', '-o', withoutId, FIXTURE]);
		const b = cache.tableFor(withoutId);
		assert.notEqual(b.key, a.key);
		assert.equal(b.from, 'built');
	});

	test('a damaged cache file is rebuilt, not trusted', () => {
		const cache = new UnwindTableCache(cacheDir);
		const { key, table } = cache.tableFor(withId);
		const file = readdirSync(cacheDir).find((f) => f.startsWith(`${key}.`));
		assert.ok(file !== undefined);
		writeFileSync(join(cacheDir, file), readFileSync(join(cacheDir, file)).subarray(0, 100));
		const again = cache.tableFor(withId);
		assert.equal(again.from, 'built');
		assert.equal(cache.stats().unreadable, 1);
		assert.deepEqual(Buffer.from(again.table.bytes), Buffer.from(table.bytes));
	});

	test('the directory keeps at most maxEntries tables', () => {
		const small = join(dir, 'small');
		const cache = new UnwindTableCache(small, { maxEntries: 1 });
		cache.tableFor(withId);
		cache.tableFor(withoutId);
		assert.equal(readdirSync(small).length, 1);
	});

	test('the tables pruned are the least recently used, not the first written', () => {
		const own = join(dir, 'lru-cache');
		const third = join(dir, 'third-program');
		execFileSync('gcc', ['-O1', '-Wl,--build-id=sha1', '-o', third, FIXTURE]);
		const cache = new UnwindTableCache(own, { maxEntries: 2 });
		const a = cache.tableFor(withId).key;
		const b = cache.tableFor(withoutId).key;
		const fileOf = (key: string) =>
			join(
				own,
				readdirSync(own).find((f) => f.startsWith(`${key}.`))!,
			);
		const now = Date.now() / 1000;
		utimesSync(fileOf(a), now - 100, now - 100);
		utimesSync(fileOf(b), now - 50, now - 50);
		// The first written is read again (libc by every new process); the second never is.
		assert.equal(cache.tableFor(withId).from, 'disk');
		cache.tableFor(third);
		const kept = readdirSync(own).map((f) => f.split('.')[0]);
		assert.ok(kept.includes(a), `the table read last is kept: ${kept.join(', ')}`);
		assert.ok(!kept.includes(b), 'the one unused longest goes');
	});
});

describe('the table layout', () => {
	const dir = mkdtempSync(join(tmpdir(), 'fs-unwind-layout-'));
	after(() => rmSync(dir, { recursive: true, force: true }));
	const program = join(dir, 'known-frames');
	execFileSync('gcc', ['-O2', '-o', program, FIXTURE]);
	const { table } = buildElfUnwindTable(program);

	test('fields sit where the layout comment says', () => {
		const b = Buffer.from(table.bytes);
		assert.equal(b.toString('latin1', 0, 4), 'FSUW');
		assert.equal(b.readUInt16LE(4), TABLE_VERSION);
		assert.equal(b.readUInt16LE(6), HEADER_SIZE);
		const n = b.readUInt32LE(8);
		const r = b.readUInt32LE(12);
		assert.equal(n, table.rowCount);
		assert.equal(Number(b.readBigUInt64LE(16)), table.base);
		const rulesAt = HEADER_SIZE + 4 * n + ((2 * n + 3) & ~3);
		assert.equal(b.length, rulesAt + RULE_SIZE * r);
		for (let i = 0; i < n; i++) {
			assert.equal(table.base + b.readUInt32LE(HEADER_SIZE + 4 * i), table.pc(i));
			const k = b.readUInt16LE(HEADER_SIZE + 4 * n + 2 * i);
			const rule = table.rule(i);
			const o = rulesAt + k * RULE_SIZE;
			assert.equal(b.readInt32LE(o), rule.cfaOffset);
			assert.equal(b.readInt16LE(o + 4), rule.rbpOffset);
			assert.equal(b.readInt16LE(o + 6), rule.raOffset);
			assert.equal(b[o + 8], rule.cfa);
			assert.equal(b[o + 9], rule.rbp);
			assert.equal(b[o + 10], rule.ra);
			assert.equal(b[o + 11]! >> 4, rule.pltThreshold);
			assert.equal(b.readInt16LE(o + 12), rule.rbxOffset);
			assert.equal(b[o + 14], rule.rbx);
			assert.equal(b[o + 15], 0);
		}
	});

	test('a copy at an odd offset reads the same; a short or foreign one is an UnwindError', () => {
		const odd = Buffer.alloc(table.bytes.length + 1);
		odd.set(table.bytes, 1);
		const copy = new UnwindTable(odd.subarray(1));
		for (let i = 0; i < table.rowCount; i++) assert.deepEqual(copy.rule(i), table.rule(i));
		assert.throws(() => new UnwindTable(table.bytes.subarray(0, table.bytes.length - 1)), UnwindError);
		assert.throws(() => new UnwindTable(new Uint8Array(64)), UnwindError);
	});

	test('lookup below the first row and past the last FDE finds no unwind info', () => {
		assert.equal(table.lookup(table.base - 1).cfa, CfaKind.gap);
		assert.equal(table.lookup(table.pc(table.rowCount - 1) + 0x1000).cfa, CfaKind.gap);
	});
});
