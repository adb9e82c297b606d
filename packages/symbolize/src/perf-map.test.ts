import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PerfMap, parsePerfMapLines } from './perf-map.ts';

test('parses hex lines with and without 0x, skipping junk', () => {
	const e = parsePerfMapLines('1000 10 JS:*a /x/a.js:1:1\n0x2000 0x20 b c\nnope\n3000 zz bad\n');
	assert.deepEqual(e, [
		{ start: 0x1000n, end: 0x1010n, name: 'a a.js:1' },
		{ start: 0x2000n, end: 0x2020n, name: 'b c' },
	]);
});

test('re-reads appended lines; later lines win; partial lines wait', () => {
	const dir = mkdtempSync(join(tmpdir(), 'fs-perfmap-'));
	try {
		const path = join(dir, 'perf-1.map');
		writeFileSync(path, '1000 100 first\n');
		const pm = new PerfMap(path);
		assert.equal(pm.refresh(), true);
		assert.equal(pm.lookup(0x1050n), 'first');
		assert.equal(pm.lookup(0x2000n), undefined);
		appendFileSync(path, '2000 10 second\n1000 100 moved');
		pm.refresh();
		assert.equal(pm.lookup(0x2005n), 'second');
		assert.equal(pm.lookup(0x1050n), 'first', 'an unterminated line is not read yet');
		appendFileSync(path, '\n');
		pm.refresh();
		assert.equal(pm.lookup(0x1050n), 'moved');
		assert.equal(pm.size, 3);
		// A rewritten (shorter) file starts over.
		writeFileSync(path, '5000 10 fresh\n');
		pm.refresh();
		assert.equal(pm.lookup(0x1050n), undefined);
		assert.equal(pm.lookup(0x5001n), 'fresh');
		assert.equal(new PerfMap(join(dir, 'missing')).refresh(), false);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
