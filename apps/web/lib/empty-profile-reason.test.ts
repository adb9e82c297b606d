import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyProfileReason, type EmptyProfileContext } from './empty-profile-reason.ts';
import { RANGE_PRESETS, defaultProfileQuery } from './profile-query.ts';

const base: EmptyProfileContext = {
	query: defaultProfileQuery,
	liveProcess: undefined,
	lookup: null,
	connectedCollectors: 1,
};
const withQuery = (query: Partial<EmptyProfileContext['query']>, rest: Partial<EmptyProfileContext> = {}) => ({
	...base,
	...rest,
	query: { ...base.query, ...query },
});
const fixed = { kind: 'absolute' as const, from: 1_000, to: 2_000 };

test('no collector connected explains an unfiltered empty profile', () => {
	assert.deepEqual(emptyProfileReason({ ...base, connectedCollectors: 0 }), { kind: 'no-collector' });
	// A host filter does not change that nobody is sending.
	assert.deepEqual(emptyProfileReason(withQuery({ hosts: ['web-1'] }, { connectedCollectors: 0 })), { kind: 'no-collector' });
	// Before the page knows, it does not claim there is no collector.
	assert.equal(emptyProfileReason({ ...base, connectedCollectors: null }).kind, 'no-samples-in-range');
});

test("a host's profiler warming up explains an empty range up to now, not a fixed one", () => {
	const warmUps = [{ host: 'web-1', feature: 'profile', sinceMs: 1_000, tablesLoaded: 3 }];
	assert.deepEqual(emptyProfileReason({ ...base, warmUps }), { kind: 'warming-up', warmUps });
	assert.deepEqual(emptyProfileReason(withQuery({ pid: 42 }, { warmUps, liveProcess: { comm: 'x' } })), { kind: 'warming-up', warmUps });
	assert.equal(emptyProfileReason(withQuery({ range: fixed }, { warmUps })).kind, 'no-samples-in-range');
	assert.equal(emptyProfileReason({ ...base, warmUps: [] }).kind, 'no-samples-in-range');
});

test('no samples in range, told apart for a moving and a fixed range', () => {
	assert.deepEqual(emptyProfileReason(base), { kind: 'no-samples-in-range', fixedRange: false });
	assert.deepEqual(emptyProfileReason(withQuery({ range: fixed })), { kind: 'no-samples-in-range', fixedRange: true });
});

test('a command or host filter that matched nothing', () => {
	assert.deepEqual(emptyProfileReason(withQuery({ comm: 'nginx' })), { kind: 'filters-match-nothing', comm: 'nginx' });
	assert.deepEqual(emptyProfileReason(withQuery({ comm: 'nginx' }, { connectedCollectors: 0 })), {
		kind: 'filters-match-nothing',
		comm: 'nginx',
	});
	assert.deepEqual(emptyProfileReason(withQuery({ hosts: ['web-1'] })), { kind: 'filters-match-nothing', comm: '' });
});

test('a running process without samples is idle, whichever source knows it runs', () => {
	assert.deepEqual(emptyProfileReason(withQuery({ pid: 42 }, { liveProcess: { comm: 'worker' } })), {
		kind: 'process-idle',
		pid: 42,
		comm: 'worker',
		fixedRange: false,
	});
	const lookup = { known: true as const, live: true, host: 'h', comm: 'from-hub', lastMs: 5 };
	assert.deepEqual(emptyProfileReason(withQuery({ pid: 42, range: fixed }, { lookup })), {
		kind: 'process-idle',
		pid: 42,
		comm: 'from-hub',
		fixedRange: true,
	});
});

test('a process the hub saw earlier has exited', () => {
	const lookup = { known: true as const, live: false, host: 'web-1', comm: 'batch', lastMs: 123_000 };
	assert.deepEqual(emptyProfileReason(withQuery({ pid: 42 }, { lookup, connectedCollectors: 0 })), {
		kind: 'process-exited',
		pid: 42,
		comm: 'batch',
		host: 'web-1',
		lastMs: 123_000,
	});
});

test('an unknown pid, with a wider range to try while there is one', () => {
	const widest = RANGE_PRESETS.reduce((a, b) => (b.ms > a.ms ? b : a));
	const narrowest = RANGE_PRESETS.reduce((a, b) => (b.ms < a.ms ? b : a));
	assert.deepEqual(
		emptyProfileReason(withQuery({ pid: 999_999, range: { kind: 'relative', preset: narrowest.id } }, { lookup: { known: false } })),
		{
			kind: 'pid-not-found',
			pid: 999_999,
			seen: false,
			widerPreset: widest.id,
		},
	);
	assert.deepEqual(emptyProfileReason(withQuery({ pid: 999_999, range: { kind: 'relative', preset: widest.id } })), {
		kind: 'pid-not-found',
		pid: 999_999,
		seen: null,
		widerPreset: null,
	});
	assert.deepEqual(emptyProfileReason(withQuery({ pid: 7, range: fixed })), {
		kind: 'pid-not-found',
		pid: 7,
		seen: null,
		widerPreset: null,
	});
});
