import assert from 'node:assert/strict';
import { test } from 'node:test';
import { frameColor, KIND_HUES, kindColor, moduleColor, stableHash } from './frame-colors.ts';

const hueOf = (color: string) => Number(/^hsl\(([\d.]+)/.exec(color)?.[1]);

test('each kind stays inside its own hue family, apart from the others', () => {
	const names = ['clear_page_erms', 'do_syscall_64', 'main', 'malloc', 'Foo::bar(int)', 'processRequest app.js:3'];
	for (const kind of ['kernel', 'user', 'jit'] as const) {
		const family = KIND_HUES[kind];
		for (const name of names) {
			const hue = hueOf(kindColor(kind, name));
			assert.ok(Math.abs(hue - family.hue) <= family.spread / 2, `${kind} ${name} ${hue}`);
		}
	}
	const families = Object.values(KIND_HUES).map((f) => [f.hue - f.spread / 2, f.hue + f.spread / 2] as const);
	for (const [i, a] of families.entries()) for (const b of families.slice(i + 1)) assert.ok(a[1] < b[0] || b[1] < a[0], 'families overlap');
});

test('module colours are stable and tell modules apart', () => {
	assert.equal(moduleColor('libc.so.6'), moduleColor('libc.so.6'));
	assert.notEqual(moduleColor('libc.so.6'), moduleColor('[kernel.kallsyms]'));
	assert.equal(stableHash('a'), 0xe40c292c);
	assert.equal(frameColor('module', { name: 'x', module: 'node', kind: 'jit' }), moduleColor('node'));
	assert.equal(frameColor('kind', { name: 'x', module: 'node', kind: 'jit' }), kindColor('jit', 'x'));
});
