import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
	DEFAULT_PRESET,
	RANGE_PRESETS,
	defaultProfileQuery,
	findPreset,
	formatWarning,
	parsePid,
	parseProfileQuery,
	pprofHref,
	profileHref,
	resolveRange,
	toSearchParams,
	widerPreset,
} from './profile-query.ts';

const parse = (query: string) => parseProfileQuery(new URLSearchParams(query));
const messages = (query: string) => parse(query).warnings.map(formatWarning);

test('a link written from a state parses back to the same state, with no warning', () => {
	const state = {
		...defaultProfileQuery,
		range: { kind: 'absolute' as const, from: Date.UTC(2025, 0, 2, 3, 4, 5), to: Date.UTC(2025, 0, 2, 3, 9, 5) },
		pid: 4242,
		comm: 'workload',
		hosts: ['web-1', 'web-2'],
		view: 'table' as const,
		orientation: 'flame' as const,
		search: 'hot_a',
	};
	assert.deepEqual(parseProfileQuery(toSearchParams(state)), { state, warnings: [] });
});

test('every offered range preset round-trips through the URL', () => {
	for (const preset of RANGE_PRESETS) {
		const state = { ...defaultProfileQuery, range: { kind: 'relative' as const, preset: preset.id }, live: true };
		assert.deepEqual(parseProfileQuery(toSearchParams(state)), { state, warnings: [] }, preset.id);
	}
	assert.ok(findPreset(DEFAULT_PRESET), 'the default range is one of the offered presets');
});

test('defaults stay out of the URL and a bare URL gives the defaults', () => {
	assert.equal(toSearchParams(defaultProfileQuery).toString(), '');
	assert.deepEqual(parse(''), { state: defaultProfileQuery, warnings: [] });
	assert.deepEqual(parse('pid=&comm=&range=&live=0'), { state: defaultProfileQuery, warnings: [] });
	assert.equal(profileHref({ pid: 7 }), '/profiles?pid=7');
});

test('a pid that is not a process id shows every process and says so', () => {
	const { state, warnings } = parse('pid=abc');
	assert.equal(state.pid, null);
	assert.deepEqual(warnings, [{ param: 'pid', value: 'abc', reason: 'not a process id; showing every process' }]);
	assert.deepEqual(messages('pid=abc'), ['Ignored pid=abc: not a process id; showing every process']);
	for (const bad of ['0', '-5', '1.5', '99999999999', '12abc']) {
		assert.equal(parse(`pid=${bad}`).warnings[0]?.param, 'pid', bad);
	}
	assert.equal(parsePid(' 12 '), 12);
	assert.equal(parse('pid=12').warnings.length, 0);
});

test('a range that is not offered falls back to the default range and says so', () => {
	// A duration that is not a preset today; the first of these that no preset claims.
	const unknown = ['7d', '30d', '90d', '7y'].find((id) => !findPreset(id));
	assert.ok(unknown);
	const { state, warnings } = parse(`range=${unknown}`);
	assert.deepEqual(state.range, { kind: 'relative', preset: DEFAULT_PRESET });
	assert.equal(warnings.length, 1);
	const message = formatWarning(warnings[0]!);
	assert.ok(message.startsWith(`Ignored range=${unknown}: not one of `), message);
	for (const preset of RANGE_PRESETS) assert.ok(message.includes(preset.id), `${message} names ${preset.id}`);
	assert.ok(message.endsWith(`showing the ${findPreset(DEFAULT_PRESET)!.label.toLowerCase()}`), message);
});

test('broken absolute ranges fall back and each bad part is named', () => {
	assert.deepEqual(messages('from=2025-01-02&to=2024-01-01'), [
		'Ignored from=2025-01-02: not before to=2024-01-01; showing the last 15 minutes',
	]);
	assert.deepEqual(messages('from=yesterday&to=1000'), ['Ignored from=yesterday: not a time; showing the last 15 minutes']);
	assert.deepEqual(messages('from=1000'), ['Ignored from=1000: a range needs to as well; showing the last 15 minutes']);
	assert.deepEqual(messages('to=1000'), ['Ignored to=1000: a range needs from as well; showing the last 15 minutes']);
	// A broken absolute range leaves a valid preset in charge, and the message says so.
	const { state, warnings } = parse('from=nope&to=2000&range=1h');
	assert.deepEqual(state.range, { kind: 'relative', preset: '1h' });
	assert.deepEqual(warnings.map(formatWarning), ['Ignored from=nope: not a time; showing the last hour']);
	assert.deepEqual(messages('from=1000&to=2000&range=1h'), ['Ignored range=1h: from and to set the range']);
});

test('live mode is dropped for a fixed range, with a warning', () => {
	const { state, warnings } = parse('from=1000&to=2000&live=1');
	assert.deepEqual(state.range, { kind: 'absolute', from: 1000, to: 2000 });
	assert.equal(state.live, false);
	assert.deepEqual(warnings.map(formatWarning), ['Ignored live=1: live mode follows relative ranges only']);
	assert.equal(parse('live=1').state.live, true);
	assert.deepEqual(messages('live=yes'), ['Ignored live=yes: not 1 or 0']);
});

test('unknown views, orientations and parameters are named, the rest still applies', () => {
	const { state, warnings } = parse('view=nope&orient=sideways&pid=7&PID=8&utm=x');
	assert.equal(state.view, 'both');
	assert.equal(state.orientation, 'icicle');
	assert.equal(state.pid, 7);
	assert.deepEqual(warnings.map(formatWarning), [
		'Ignored view=nope: not one of both, graph, table',
		'Ignored orient=sideways: not one of icicle, flame',
		'Ignored PID=8: not a parameter of this page',
		'Ignored utm=x: not a parameter of this page',
	]);
});

test('a long value is cut in the message', () => {
	const [message] = messages(`pid=${'x'.repeat(500)}`);
	assert.ok(message && message.length < 100, message);
	assert.ok(message.includes('…'));
});

test('relative ranges end now, the widest preset is offered next, and pprof links carry the same filter', () => {
	assert.deepEqual(resolveRange({ kind: 'relative', preset: '5m' }, 1_000_000), { from: 700_000, to: 1_000_000 });
	const widest = RANGE_PRESETS.reduce((a, b) => (b.ms > a.ms ? b : a));
	assert.equal(widerPreset({ kind: 'relative', preset: '5m' })?.id, widest.id);
	assert.equal(widerPreset({ kind: 'relative', preset: widest.id }), null);
	assert.equal(widerPreset({ kind: 'absolute', from: 1, to: 2 }), null);
	assert.equal(pprofHref({ from: 1.5, to: 9.2, pid: 3, comm: 'a b', hosts: [] }), '/api/pprof?from=1&to=10&pid=3&comm=a+b');
});

test('the colour mode and the process level round-trip; the longer presets are offered', () => {
	const state = {
		...defaultProfileQuery,
		color: 'module' as const,
		groupByProcess: true,
		range: { kind: 'relative' as const, preset: '7d' as const },
	};
	assert.equal(toSearchParams(state).toString(), 'range=7d&color=module&group=process');
	assert.deepEqual(parseProfileQuery(toSearchParams(state)), { state, warnings: [] });
	assert.deepEqual(
		['6h', '24h', '7d'].map((id) => findPreset(id)?.ms),
		[6 * 3_600_000, 86_400_000, 7 * 86_400_000],
	);
	assert.deepEqual(
		parse('color=rainbow&group=pid').warnings.map((w) => w.param),
		['color', 'group'],
	);
});
