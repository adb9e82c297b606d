import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonical, KNOWN_META, knownProfile } from '../fixtures/known-profile.ts';
import { parseFolded, toFolded } from './folded.ts';
import { totalWeight } from './profile.ts';
import { ProfileBuilder } from './profile-builder.ts';

test('folded lines: comm first, user frames root first, then kernel frames with _[k]', () => {
	assert.equal(
		toFolded(knownProfile()),
		[
			'app;main;fib;fib;fib 4',
			'app;main;read;entry_SYSCALL_64_[k];ksys_read_[k] 3',
			'app;main;work 1',
			// pid 100's 7 and pid 101's 1 fold onto one line when pids are not written.
			'app;main;work;compute 8',
			'node;start;jsFn_[j] 2',
			'',
		].join('\n'),
	);
});

test('with pids, each process gets its own comm-PID lines', () => {
	const lines = toFolded(knownProfile(), { pids: true }).trimEnd().split('\n');
	assert.ok(lines.includes('app-100;main;work;compute 7'));
	assert.ok(lines.includes('app-101;main;work;compute 1'));
	assert.ok(lines.includes('node-200;start;jsFn_[j] 2'));
	assert.equal(lines.length, 6);
});

test('round trip keeps stacks, kinds, pids and counts (modules are not in the format)', () => {
	const p = knownProfile();
	const back = parseFolded(toFolded(p, { pids: true }), { pids: true, ...KNOWN_META });
	assert.ok(back);
	assert.deepEqual(canonical(back, { modules: false }), canonical(p, { modules: false }));
	assert.equal(back.startMs, p.startMs);
	assert.equal(back.frequencyHz, p.frequencyHz);
	const kernel = back.frames.find((f) => f.name === 'ksys_read');
	assert.deepEqual(kernel, { name: 'ksys_read', module: '[kernel.kallsyms]', kind: 'kernel' });
	// And folded -> profile -> folded is the identity on text toFolded wrote.
	assert.equal(toFolded(back), toFolded(p));
});

test('parses stackcollapse-perf output: spaces in names, CRLF, inlined marks, blank lines', () => {
	const text =
		'java;start_thread;std::vector<int, std::allocator<int> >::push_back(int const&);memcpy_[i] 12\r\n' +
		'\n' +
		'swapper;secondary_startup_64_[k];do_idle_[k] 30\r\n' +
		'java;start_thread 1\r\n';
	const p = parseFolded(text);
	assert.ok(p);
	assert.equal(totalWeight(p), 43);
	assert.equal(p.frequencyHz, 100, 'default rate when the text does not say');
	assert.deepEqual(canonical(p, { modules: false }), [
		'0|java|user:start_thread 1',
		'0|java|user:start_thread;user:std::vector<int, std::allocator<int> >::push_back(int const&);user:memcpy 12',
		'0|swapper|kernel:secondary_startup_64;kernel:do_idle 30',
	]);
});

test('a comm-only line is an empty stack', () => {
	const p = parseFolded('idle 5\n');
	assert.ok(p);
	assert.deepEqual(p.samples, [{ stack: [], weight: 5, pid: 0, comm: 'idle' }]);
});

test('names holding ; or newlines cannot break the line structure', () => {
	const b = new ProfileBuilder({ startMs: 0, durationMs: 0, frequencyHz: 1 });
	b.appendSample([{ name: 'a;b\nc', module: '', kind: 'user' }], 2, { pid: 1, comm: 'x' });
	const text = toFolded(b.build());
	assert.equal(text, 'x;a_b_c 2\n');
	assert.equal(parseFolded(text)?.samples[0]?.stack.length, 1);
});

test('text that is not folded gives null', () => {
	assert.equal(parseFolded(''), null);
	assert.equal(parseFolded('\n\n'), null);
	assert.equal(parseFolded('{"samples": [1, 2]}'), null);
	assert.equal(parseFolded('perf 1234 [000] 100.000001: 10101010 cpu-clock:ppp:\n\tffffffff8100 do_idle ([kernel.kallsyms])\n'), null);
	assert.equal(parseFolded('a;b 3\nnot folded\n'), null);
	assert.equal(parseFolded('a;b 3\u0000'), null);
	assert.equal(parseFolded('a;b 1.5'), null);
	assert.equal(parseFolded('app;main 3\n', { pids: true }), null, 'pids expected but absent');
});

test('a folded count too large to hold exactly throws', () => {
	assert.throws(() => parseFolded('a;b 99999999999999999999\n'), RangeError);
});
