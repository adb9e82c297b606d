import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqliteFile, SQLITE_CACHE_KIB } from './sqlite-file.ts';

/**
 * SQLite's page cache is the one part of the hub's memory that grows with the database file; it
 * must stop at its bound. A database many times the bound is written and read through twice, all
 * inside SQLite (no JS objects per row): the process's RSS grows by the cache, not by the file.
 */
test('the page cache holds at its bound while a database many times larger is written and read', () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-cache-'));
	try {
		const { db } = openSqliteFile({ dataDir: dir });
		assert.equal(db.pragma('cache_size', { simple: true }), -SQLITE_CACHE_KIB);
		db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, payload BLOB)');
		const rss0 = process.memoryUsage().rss;
		// Rows of 3,000 bytes: one a page, 12 times the bound in all.
		const rows = Math.ceil((12 * SQLITE_CACHE_KIB * 1024) / 4096);
		db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
			INSERT INTO filler SELECT i, randomblob(3000) FROM n`);
		let sum = 0;
		for (let pass = 0; pass < 2; pass++) sum = (db.prepare('SELECT sum(length(payload) + id) AS s FROM filler').get() as { s: number }).s;
		assert.equal(sum, rows * 3000 + (rows * (rows + 1)) / 2);
		const pages = db.pragma('page_count', { simple: true }) as number;
		assert.ok(pages * 4096 >= 10 * SQLITE_CACHE_KIB * 1024, `the file is ${pages} pages`);
		const grewMiB = (process.memoryUsage().rss - rss0) / 1048576;
		db.close();
		// The cache, its headers (about 5% a page) and malloc's slack; the file is 12 times the cache.
		const boundMiB = (SQLITE_CACHE_KIB / 1024) * 1.25 + 6;
		assert.ok(
			grewMiB <= boundMiB,
			`RSS grew ${grewMiB.toFixed(1)} MiB for a ${((pages * 4096) / 1048576).toFixed(0)} MiB file, bound ${boundMiB.toFixed(1)} MiB`,
		);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
