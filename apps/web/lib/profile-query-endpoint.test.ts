import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSide, parseSide, sideInput } from './diff-query.ts';
import { parseProfileQuery, pprofHref, profileHref, toSearchParams } from './profile-query.ts';

test('the Profiles page takes endpoint=GET /api/users/:id and group=endpoint, and writes them back', () => {
	const { state, warnings } = parseProfileQuery(new URLSearchParams('endpoint=GET /api/users/:id&group=process,endpoint&pid=7'));
	assert.deepEqual(warnings, []);
	assert.equal(state.endpoint, 'GET /api/users/:id');
	assert.equal(state.groupByEndpoint, true);
	assert.equal(state.groupByProcess, true);
	const back = toSearchParams(state);
	assert.equal(back.get('endpoint'), 'GET /api/users/:id');
	assert.equal(back.get('group'), 'process,endpoint');
	assert.deepEqual(parseProfileQuery(back).state, state);
	assert.equal(toSearchParams({ ...state, groupByProcess: false }).get('group'), 'endpoint');
	assert.match(profileHref({ endpoint: 'POST /orders' }), /^\/profiles\?endpoint=POST\+%2Forders$/);
	assert.match(pprofHref({ from: 1, to: 2, pid: null, comm: '', hosts: [], endpoint: 'GET /x' }), /&endpoint=GET\+%2Fx/);
});

test('an unknown group is said, and an empty endpoint is no filter', () => {
	const { state, warnings } = parseProfileQuery(new URLSearchParams('group=thread&endpoint='));
	assert.equal(state.endpoint, undefined);
	assert.deepEqual(
		warnings.map((w) => `${w.param}=${w.value}: ${w.reason}`),
		['group=thread: not process, endpoint or both'],
	);
});

test('a diff side takes an endpoint, so the diff view compares two endpoints', () => {
	const side = parseSide('pid=7&endpoint=GET /api/users/:id');
	assert.deepEqual(side, {
		kind: 'query',
		range: { kind: 'relative', preset: '15m' },
		pid: 7,
		comm: '',
		host: '',
		endpoint: 'GET /api/users/:id',
	});
	assert.deepEqual(parseSide(formatSide(side)), side);
	const input = sideInput(side, 1_000_000);
	assert.ok('query' in input);
	assert.equal(input.query.endpoint, 'GET /api/users/:id');
	const whole = sideInput(parseSide('pid=7'), 1_000_000);
	assert.ok('query' in whole && !('endpoint' in whole.query));
});
