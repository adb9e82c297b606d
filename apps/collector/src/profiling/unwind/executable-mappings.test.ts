import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ElfFile, FileSource, parseMaps } from '@firesight/symbolize';
import { executableMappings, filePaths, loadBias } from './executable-mappings.ts';

const MAPS = `55d0c0000000-55d0c0001000 r--p 00000000 08:01 1234 /usr/bin/prog
55d0c0001000-55d0c0002000 r-xp 00001000 08:01 1234 /usr/bin/prog
7f0000000000-7f0000100000 rwxp 00000000 00:00 0
7f0000100000-7f0000200000 r-xp 00000000 00:00 0 [anon:v8 code]
7f1000028000-7f100019d000 r-xp 00028000 08:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6
7f2000000000-7f2000001000 r-xp 00000000 08:01 77 /tmp/old binary (deleted)
7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0 [vdso]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]
7f3000000000-7f3000001000 rw-p 00000000 08:01 55 /usr/lib/data.bin
`;

test('executable mappings: files by identity (deleted ones too), anonymous code as JIT, the rest walked with frame pointers', () => {
	const ms = executableMappings(MAPS);
	assert.deepEqual(
		ms.map((m) => (m.kind === 'file' ? `file ${m.file.identity} ${m.file.path}${m.file.deleted ? ' deleted' : ''}` : m.kind)),
		[
			'file 08:01:1234 /usr/bin/prog',
			'jit',
			'jit',
			'file 08:01:99 /usr/lib/x86_64-linux-gnu/libc.so.6',
			'file 08:01:77 /tmp/old binary deleted',
			'fp',
			'fp',
		],
	);
	const deleted = ms[4]!;
	assert.equal(deleted.kind, 'file');
	if (deleted.kind !== 'file') return;
	// A deleted file is reached only through the inode the process maps.
	assert.deepEqual(filePaths('/proc', 42, deleted), ['/proc/42/map_files/7f2000000000-7f2000001000']);
	const libc = ms[3]!;
	if (libc.kind !== 'file') return;
	assert.deepEqual(filePaths('/proc', 42, libc), [
		'/proc/42/map_files/7f1000028000-7f100019d000',
		'/proc/42/root/usr/lib/x86_64-linux-gnu/libc.so.6',
	]);
});

test('load bias: runtime address minus file virtual address, through the executable segment', () => {
	const seg = (offset: bigint, vaddr: bigint, flags: number) => ({ type: 1, flags, offset, vaddr, filesz: 0x10000n, memsz: 0x10000n });
	// A non-PIE executable: text at file offset 0x1000 linked at 0x401000, mapped there.
	assert.equal(loadBias({ start: 0x401000n, offset: 0x1000n }, [seg(0n, 0x400000n, 4), seg(0x1000n, 0x401000n, 5)]), 0n);
	// A shared library whose segment's vaddr differs from its offset by a page.
	assert.equal(loadBias({ start: 0x7f0000002000n, offset: 0x1000n }, [seg(0x1000n, 0x2000n, 5)]), 0x7f0000002000n - 0x2000n);
	assert.equal(loadBias({ start: 0x1000n, offset: 0n }, [seg(0n, 0n, 4)]), undefined, 'no executable segment');
});

test('load bias of the libc this process maps: where its file offset 0 is mapped', () => {
	const maps = readFileSync('/proc/self/maps', 'utf8');
	const libc = executableMappings(maps).find((m) => m.kind === 'file' && /\/libc\.so\.6$/.test(m.file.path));
	assert.ok(libc && libc.kind === 'file', 'this process maps libc');
	const src = new FileSource(libc.file.path);
	let segments;
	try {
		const elf = new ElfFile(src);
		segments = elf.segments;
	} finally {
		src.close();
	}
	const bias = loadBias(libc, segments);
	assert.ok(bias !== undefined);
	// The file's first mapping (offset 0) starts at the bias for a library linked at 0.
	const first = parseMaps(maps).find((m) => m.path === libc.file.path && m.offset === 0n);
	assert.equal(bias, first?.start);
});
