import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { findMapping, isFileBacked, mapFilesName, parseMaps } from './proc-maps.ts';

const TEXT = [
	'7f0000002000-7f0000003000 r-xp 00002000 fd:01 1234                       /opt/my app/lib x.so (deleted)',
	'55d000000000-55d000001000 r--p 00000000 fd:01 99                         /usr/bin/prog',
	'55d000001000-55d000005000 r-xp 00001000 fd:01 99                         /usr/bin/prog',
	'7f0000000000-7f0000001000 rwxp 00000000 00:00 0 ',
	'7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]',
	'garbage line',
].join('\n');

test('parses, sorts and finds mappings', () => {
	const maps = parseMaps(TEXT);
	assert.equal(maps.length, 5);
	assert.deepEqual(
		maps.map((m) => m.start),
		[...maps.map((m) => m.start)].sort((a, b) => (a < b ? -1 : 1)),
	);
	const lib = findMapping(maps, 0x7f0000002abcn)!;
	assert.equal(lib.path, '/opt/my app/lib x.so');
	assert.equal(lib.deleted, true);
	assert.equal(lib.offset, 0x2000n);
	assert.equal(lib.dev, 'fd:01');
	assert.equal(lib.inode, 1234);
	assert.equal(mapFilesName(lib), '7f0000002000-7f0000003000');
	assert.equal(isFileBacked(lib), true);
	const anon = findMapping(maps, 0x7f0000000010n)!;
	assert.equal(anon.path, '');
	assert.equal(isFileBacked(anon), false);
	assert.equal(findMapping(maps, 0x7ffd00000001n)!.path, '[vdso]');
	assert.equal(findMapping(maps, 0x7f0000001000n), undefined, 'end is exclusive');
	assert.equal(findMapping(maps, 0x55d000001000n)!.perms, 'r-xp');
});

test('our own maps include the node binary text', () => {
	const maps = parseMaps(readFileSync('/proc/self/maps', 'utf8'));
	const exe = readFileSync('/proc/self/cmdline', 'latin1').split('\0')[0]!;
	assert.ok(
		maps.some((m) => m.perms.includes('x') && isFileBacked(m)),
		exe,
	);
});
