import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cutName } from './cut-name.ts';

test('a name that fits is kept whole', () => {
	assert.equal(cutName('main', 10), 'main');
	assert.equal(cutName('Foo::bar(int)', 13), 'Foo::bar(int)');
});

test('the left is cut first, so the method and its arguments stay', () => {
	assert.equal(cutName('ns::detail::Foo::bar(int)', 15), '…Foo::bar(int)');
	assert.equal(cutName('node::worker::Worker.run', 12), '…Worker.run');
});

test('long arguments give way to the method name', () => {
	const name = 'std::vector<int, std::allocator<int> >::push_back(std::pair<int, int> const&)';
	const cut = cutName(name, 20);
	assert.ok(cut.length <= 20, cut);
	assert.ok(cut.includes('push_back'), cut);
	assert.ok(cut.endsWith('(…)'), cut);
	assert.ok(cut.startsWith('…'), cut);
});

test('a method longer than the room keeps its start', () => {
	const cut = cutName('Foo::a_really_long_method_name(int)', 10);
	assert.ok(cut.length <= 10, cut);
	assert.ok(cut.startsWith('a_real'), cut);
});

test('a JIT name with a file keeps the function', () => {
	assert.equal(cutName('processRequest /srv/app/lib/handlers/request.js:42', 30), 'processRequest …');
	assert.equal(cutName('processRequest /srv/app/lib/handlers/request.js:42', 10), 'processRe…');
	assert.equal(cutName('[anon]+0x7f0012345678', 8), '[anon]+…');
	assert.equal(cutName('anything', 0), '');
	assert.equal(cutName('anything', 1), '…');
});
