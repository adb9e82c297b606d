import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FileSource } from './byte-source.ts';
import { ElfError, ElfFile, findBuildIdNote, PF_X, PT_LOAD } from './elf-file.ts';
import { buildTargets, FIXTURES, nmFunctions } from '@firesight/testing/symbolize-targets';
import { buildGoFixture } from '@firesight/testing/workloads';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

function open(path: string): ElfFile {
	return new ElfFile(new FileSource(path));
}

function readelfBuildId(path: string): string | undefined {
	return /Build ID: ([0-9a-f]+)/.exec(execFileSync('readelf', ['-n', path], { encoding: 'utf8' }))?.[1];
}

describe('ElfFile', () => {
	test('every function nm reports is found at its address, with nm size', () => {
		const b = buildTargets();
		for (const path of [b.pie, b.nopie, b.libLinked]) {
			const elf = open(path);
			const table = elf.functions();
			elf.close();
			const nm = nmFunctions(path);
			assert.ok(nm.size >= 2, path);
			for (const [name, [start, size]] of nm) {
				const i = table.find(start);
				assert.ok(i >= 0, `${name} in ${path}`);
				assert.equal(table.start(i), start);
				if (size > 1n) assert.equal(table.find(start + size - 1n), i, `${name} covers its last byte`);
				// Aliases share an address; the one kept must be one of nm's names for it.
				const aliases = [...nm].filter(([, [s]]) => s === start).map(([n]) => n);
				assert.ok(aliases.includes(table.name(i)), `${table.name(i)} vs ${aliases.join(',')}`);
			}
		}
	});

	test("a stripped Go binary's functions, named from Go's function table as nm names them in its unstripped twin", (t) => {
		const go = buildGoFixture('go-stacks');
		t.after(go.cleanup);
		const elf = open(go.stripped);
		const table = elf.functions();
		elf.close();
		assert.equal(execFileSync('nm', [go.stripped], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(), '');
		// nm names an assembly function's ABI0 symbol with a suffix the function table leaves out,
		// and the table writes the length of an array type as `...`.
		const nm = [...nmFunctions(go.path)].filter(([, [, size]]) => size > 0n);
		assert.ok(nm.length > 1000, `${nm.length} functions`);
		const wrong: string[] = [];
		for (const [name, [start, size]] of nm) {
			const i = table.find(start + size - 1n);
			const ours = i < 0 ? '(none)' : table.name(i);
			if (i < 0 || table.start(i) !== start || ours !== name.replace(/\.abi0$/, '').replace(/\[\d+\]/g, '[...]'))
				wrong.push(`${name} at 0x${start.toString(16)}: ${ours}`);
		}
		assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${nm.length} functions`);
	});

	test('dynamic symbols of a stripped system library', () => {
		const elf = open(LIBC);
		const table = elf.functions();
		elf.close();
		const nm = nmFunctions(LIBC, true);
		let checked = 0;
		for (const name of ['getpid', 'malloc', 'write', 'qsort']) {
			const sym = nm.get(name);
			if (sym === undefined) continue;
			const i = table.find(sym[0] + sym[1] / 2n);
			assert.ok(i >= 0, name);
			assert.equal(table.start(i), sym[0]);
			checked++;
		}
		assert.ok(checked >= 3);
	});

	test('program headers and build-id agree with readelf', () => {
		const b = buildTargets();
		for (const path of [b.pie, LIBC]) {
			const elf = open(path);
			assert.equal(elf.buildId, readelfBuildId(path));
			const out = execFileSync('readelf', ['-lW', path], { encoding: 'utf8' });
			const loads = out.split('\n').filter((l) => l.trim().startsWith('LOAD'));
			const ours = elf.segments.filter((s) => s.type === PT_LOAD);
			assert.equal(ours.length, loads.length);
			ours.forEach((s, k) => {
				const f = loads[k]!.trim().split(/\s+/);
				assert.equal(s.offset, BigInt(f[1]!));
				assert.equal(s.vaddr, BigInt(f[2]!));
				assert.equal((s.flags & PF_X) !== 0, f.slice(6).join('').includes('E'));
			});
			const text = elf.textSegmentFor(ours.find((s) => (s.flags & PF_X) !== 0)!.offset);
			assert.ok(text !== undefined && (text.flags & PF_X) !== 0);
			elf.close();
		}
	});

	test('rejects what is not little-endian ELF64', () => {
		const b = buildTargets();
		const header = (cls: number, data: number): string => {
			const path = `${b.dir}/hdr-${cls}-${data}`;
			const buf = Buffer.alloc(64);
			buf.write('\x7fELF', 0, 'latin1');
			buf[4] = cls;
			buf[5] = data;
			writeFileSync(path, buf);
			return path;
		};
		assert.throws(() => open(header(1, 1)), /not ELF64/);
		assert.throws(() => open(header(2, 2)), /not little-endian/);
		assert.throws(() => open(join(FIXTURES, 'lib.c')), ElfError);
		assert.doesNotThrow(() => open(header(2, 1)).close());
	});

	test('build-id note parsing skips other notes', () => {
		const note = (type: number, name: string, desc: Buffer): Buffer => {
			const n = Buffer.from(`${name}\0`);
			const head = Buffer.alloc(12);
			head.writeUInt32LE(n.length, 0);
			head.writeUInt32LE(desc.length, 4);
			head.writeUInt32LE(type, 8);
			const pad = (x: Buffer) => Buffer.concat([x, Buffer.alloc((4 - (x.length % 4)) % 4)]);
			return Buffer.concat([head, pad(n), pad(desc)]);
		};
		const id = Buffer.from('0123456789abcdef0123', 'hex');
		const buf = Buffer.concat([note(1, 'GNU', Buffer.alloc(16)), note(3, 'Xen', id), note(3, 'GNU', id)]);
		assert.equal(findBuildIdNote(buf), id.toString('hex'));
		assert.equal(findBuildIdNote(buf.subarray(0, 20)), undefined);
	});
});
