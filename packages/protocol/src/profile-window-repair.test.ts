import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limits } from './limits.ts';
import { parseCollectorMessage } from './parse.ts';
import { cutKeepingEnd, cutKeepingStart } from './wire-strings.ts';

const longName = `ns::Outer<${'std::vector<std::pair<int, std::string>>, '.repeat(120)}int>::method_we_want(int)`;

const window = {
	host: 'box',
	startMs: 1_700_000_000_000,
	durationMs: 10_000,
	frequencyHz: 99,
	frames: [
		{ name: 'main', module: 'app', kind: 'user' },
		{ name: longName, module: 'app', kind: 'user' },
		{ name: 'f', module: `/${'d/'.repeat(200)}libfoo.so`, kind: 'user' },
		{ name: 42, module: 'app', kind: 'user' },
	],
	samples: [
		{ pid: 1, comm: 'app', stack: [0, 1], weight: 7 },
		{ pid: 1, comm: 'app', stack: [0, 2, 3], weight: 2 },
		{ pid: 1, comm: 'app', stack: [0, 99], weight: 5 },
		{ pid: -1, comm: 'app', stack: [0], weight: 1 },
	],
};

test('a window with a bad field loses that field or stack, not the whole window, and says what it cut', () => {
	assert.ok(longName.length > 5000);
	const text = JSON.stringify({ type: 'profile', window });
	assert.equal(parseCollectorMessage(text).ok, false, 'without repairs the strict schema rejects it');

	const seen: Record<string, number> = {};
	const r = parseCollectorMessage(text, (repair, n) => (seen[repair] = (seen[repair] ?? 0) + n));
	assert.ok(r.ok, r.ok ? '' : r.error);
	assert.ok(r.value.type === 'profile');
	const w = r.value.window;
	const name = w.frames[1]!.name;
	assert.equal(name.length, limits.frameName);
	assert.ok(name.startsWith('…'));
	assert.ok(name.endsWith('::method_we_want(int)'));
	assert.ok(w.frames[2]!.module.endsWith('/libfoo.so'));
	assert.equal(w.frames[3]!.name, '[invalid frame]');
	assert.deepEqual(
		w.samples.map((s) => s.weight),
		[7, 2],
	);
	assert.deepEqual(seen, { frame_name_cut: 1, frame_module_cut: 1, frame_replaced: 1, stack_dropped: 2 });
});

test('what cannot be repaired is still rejected, and nothing is reported for it', () => {
	const seen: string[] = [];
	const r = parseCollectorMessage(JSON.stringify({ type: 'profile', window: { ...window, host: '' } }), (repair) => seen.push(repair));
	assert.equal(r.ok, false);
	assert.deepEqual(seen, []);
});

test('cuts keep the end or the start, within the limit, without splitting a surrogate pair', () => {
	assert.equal(cutKeepingEnd('abcdef', 4), '…def');
	assert.equal(cutKeepingStart('abcdef', 4), 'abc…');
	assert.equal(cutKeepingEnd('abc', 3), 'abc');
	const emoji = 'x😀😀😀';
	for (let max = 2; max <= emoji.length; max++) {
		for (const cut of [cutKeepingEnd(emoji, max), cutKeepingStart(emoji, max)]) {
			assert.ok(cut.length <= max);
			assert.ok(
				!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(cut),
				`lone surrogate in ${JSON.stringify(cut)}`,
			);
		}
	}
});
