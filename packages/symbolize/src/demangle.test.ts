import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileSource } from './byte-source.ts';
import { CxxFiltDemangler, defaultDemangler, WasmDemangler } from './demangle.ts';
import { ElfFile } from './elf-file.ts';
import { buildTargets, FIXTURES } from '@firesight/testing/symbolize-targets';

// Rust examples: a legacy name (hash dropped by the wasm demangler) and a v0 name from RFC 2603.
const RUST_LEGACY = '_ZN4core3fmt5write17h0123456789abcdefE';
const RUST_V0 = '_RNvNtCs1234_7mycrate3foo3bar';

test('wasm demangler: C++ and Rust legacy and v0', () => {
	const d = new WasmDemangler();
	assert.deepEqual(d.demangle(['_ZN3fsq6Widget4spinEi', RUST_LEGACY, RUST_V0, 'main', '_Zgarbage']), [
		'fsq::Widget::spin(int)',
		'core::fmt::write',
		'mycrate::foo::bar',
		'main',
		'_Zgarbage',
	]);
	assert.equal(defaultDemangler().kind, 'wasm');
});

test('c++filt fallback: C++ batch and Rust legacy', () => {
	const d = new CxxFiltDemangler();
	assert.deepEqual(d.demangle(['_ZN3fsq6Widget4spinEi', 'plain', RUST_LEGACY]), [
		'fsq::Widget::spin(int)',
		'plain',
		'core::fmt::write::h0123456789abcdef',
	]);
	assert.deepEqual(new CxxFiltDemangler('/nonexistent/c++filt').demangle(['_ZN1a1bEv']), ['_ZN1a1bEv']);
});

test('a mangled name read from a g++-compiled binary', () => {
	const b = buildTargets();
	const bin = `${b.dir}/widget-elf`;
	execFileSync('g++', ['-O0', '-g0', '-o', bin, join(FIXTURES, 'widget.cc')]);
	const elf = new ElfFile(new FileSource(bin));
	const t = elf.functions();
	elf.close();
	const raw: string[] = [];
	for (let i = 0; i < t.size; i++) raw.push(t.name(i));
	const mangled = raw.find((n) => n.startsWith('_Z') && n.includes('Widget'));
	assert.ok(mangled !== undefined, raw.join(' '));
	assert.deepEqual(new WasmDemangler().demangle([mangled]), ['fsq::Widget::spin(int)']);
	assert.deepEqual(new CxxFiltDemangler().demangle([mangled]), ['fsq::Widget::spin(int)']);
});
