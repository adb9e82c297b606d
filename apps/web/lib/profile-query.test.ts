import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultProfileQuery, parsePid, parseProfileQuery, pprofHref, profileHref, resolveRange, toSearchParams } from './profile-query.ts';

test('a link written from a state parses back to the same state', () => {
	const state = {
		...defaultProfileQuery,
		range: { kind: 'absolute' as const, from: Date.UTC(2025, 0, 2, 3, 4, 5), to: Date.UTC(2025, 0, 2, 3, 9, 5) },
		pid: 4242,
		comm: 'workload',
		view: 'table' as const,
		orientation: 'flame' as const,
		search: 'hot_a',
	};
	assert.deepEqual(parseProfileQuery(toSearchParams(state)), state);
});

test('defaults stay out of the URL and a bare URL gives the defaults', () => {
	assert.equal(toSearchParams(defaultProfileQuery).toString(), '');
	assert.deepEqual(parseProfileQuery(new URLSearchParams('')), defaultProfileQuery);
	assert.equal(profileHref({ pid: 7 }), '/profiles?pid=7');
});

test('broken parameters fall back instead of failing', () => {
	const state = parseProfileQuery(new URLSearchParams('range=3d&pid=abc&from=2025-01-02&to=2024-01-01&view=nope&live=1'));
	assert.deepEqual(state.range, { kind: 'relative', preset: '15m' });
	assert.equal(state.pid, null);
	assert.equal(state.view, 'both');
	assert.equal(state.live, true);
	assert.equal(parsePid('0'), null);
	assert.equal(parsePid(' 12 '), 12);
});

test('live mode is dropped for a fixed range', () => {
	const state = parseProfileQuery(new URLSearchParams('from=1000&to=2000&live=1'));
	assert.deepEqual(state.range, { kind: 'absolute', from: 1000, to: 2000 });
	assert.equal(state.live, false);
});

test('relative ranges end now and pprof links carry the same filter', () => {
	assert.deepEqual(resolveRange({ kind: 'relative', preset: '5m' }, 1_000_000), { from: 700_000, to: 1_000_000 });
	assert.equal(pprofHref({ from: 1.5, to: 9.2, pid: 3, comm: 'a b', host: '' }), '/api/pprof?from=1&to=10&pid=3&comm=a+b');
});
