import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DiffFunctionRow } from '@firesight/profile';
import { normalizedChange } from '@firesight/profile';
import {
	defaultDiffView,
	diffColor,
	diffQueryWarnings,
	shareChange,
	diffHref,
	parseDiffQuery,
	parseSide,
	sharedDiffHref,
	sideInput,
} from './diff-query.ts';
import { rankDiffRows } from './diff-rows.ts';

const ID_A = 'rnQ-5DMsfEuBhZ6sLyMYmw';
const ID_B = 'AAAAAAAAAAAAAAAAAAAAAA';

test('a side is a share id or the Profiles page query, and both come back from the URL', () => {
	assert.deepEqual(parseSide(ID_A), { kind: 'share', id: ID_A });
	assert.deepEqual(parseSide('range=1h&pid=7&host=h1'), {
		kind: 'query',
		range: { kind: 'relative', preset: '1h' },
		pid: 7,
		comm: '',
		host: 'h1',
	});
	const state = {
		...defaultDiffView,
		search: 'hot',
		byProcess: false,
		baseline: parseSide('from=2026-01-01T00:00:00.000Z&to=2026-01-01T00:10:00.000Z&comm=app'),
		comparison: parseSide(ID_B),
	};
	const href = diffHref(state);
	assert.equal(
		href,
		`/diff?base=from%3D2026-01-01T00%253A00%253A00.000Z%26to%3D2026-01-01T00%253A10%253A00.000Z%26comm%3Dapp&cmp=${ID_B}&q=hot&procs=0`,
	);
	assert.deepEqual(parseDiffQuery(new URLSearchParams(href.slice('/diff?'.length))), state);
	assert.deepEqual(parseDiffQuery(new URLSearchParams('')).baseline, parseSide(''), 'no side is the default query');
	assert.equal(sharedDiffHref(ID_A, ID_B, { ...defaultDiffView, rank: 'total' }), `/s/${ID_A}/diff/${ID_B}?rank=total`);
	assert.equal(sharedDiffHref(ID_A, ID_B), `/s/${ID_A}/diff/${ID_B}`);
});

test('sides become API inputs; a relative range ends now', () => {
	assert.deepEqual(sideInput(parseSide(ID_A), 0), { share: ID_A });
	assert.deepEqual(sideInput(parseSide('range=5m&pid=3'), 1_000_000), { query: { fromMs: 700_000, toMs: 1_000_000, pid: 3 } });
});

test('colours: red for more, green for less, grey for no change, saturated at +-100% and one-side frames', () => {
	assert.equal(diffColor(0), 'rgb(190,190,190)');
	assert.equal(diffColor(1), 'rgb(215,48,39)');
	assert.equal(diffColor(Number.POSITIVE_INFINITY), diffColor(1));
	assert.equal(diffColor(-1), 'rgb(26,152,80)');
	const red = (c: string) => Number(/^rgb\((\d+),(\d+)/.exec(c)![1]) - Number(/^rgb\(\d+,(\d+)/.exec(c)![1]);
	assert.ok(red(diffColor(0.5)) > red(diffColor(0.1)), 'a larger change is a stronger red');
	assert.ok(red(diffColor(0.1)) > 0);
});

test('the table ranks regressions and improvements apart, by self or total change', () => {
	const row = (name: string, selfDelta: number, totalDelta: number): DiffFunctionRow => ({
		name,
		module: 'app',
		kind: 'user',
		baselineSelf: 0,
		comparisonSelf: 0,
		baselineTotal: 0,
		comparisonTotal: 0,
		selfDelta,
		totalDelta,
	});
	const rows = [row('a', 0.1, 0.5), row('b', 0.3, 0), row('c', -0.2, -0.1), row('d', 0, 0.2), row('e', -0.05, -0.4)];
	const bySelf = rankDiffRows(rows, 'self', 10);
	assert.deepEqual(
		bySelf.regressions.map((r) => r.name),
		['b', 'a'],
	);
	assert.deepEqual(
		bySelf.improvements.map((r) => r.name),
		['c', 'e'],
	);
	const byTotal = rankDiffRows(rows, 'total', 1);
	assert.deepEqual([byTotal.regressions.map((r) => r.name), byTotal.improvements.map((r) => r.name)], [['a'], ['e']]);
});

test('the page computes a change as the profile package does', () => {
	for (const [b, bt, c, ct] of [
		[1, 4, 4, 8],
		[0, 4, 1, 8],
		[2, 4, 0, 8],
		[0, 0, 0, 0],
		[3, 10, 3, 10],
		[5, 7, 1, 3],
	] as const) {
		assert.equal(shareChange(b, bt, c, ct), normalizedChange(b, bt, c, ct), `${b}/${bt} -> ${c}/${ct}`);
	}
	assert.equal(shareChange(1, 4, 4, 8), 1);
});

test('a side of a diff link that asks for what the diff cannot honour is named, by side', () => {
	const warned = (query: string) => diffQueryWarnings(new URLSearchParams(query)).map((w) => `${w.param}=${w.value}`);
	assert.deepEqual(warned(diffHref({ ...defaultDiffView, baseline: parseSide('range=1h&pid=7'), comparison: parseSide('') }).slice(6)), []);
	assert.deepEqual(warned(`base=${encodeURIComponent('pid=abc')}&cmp=${encodeURIComponent('range=7y')}`), ['base.pid=abc', 'cmp.range=7y']);
	assert.deepEqual(warned('base=rnQ-5DMsfEuBhZ6sLyMYmw&cmp='), [], 'a share id and an empty side are whole');
});
