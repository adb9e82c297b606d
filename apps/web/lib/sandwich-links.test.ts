import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultProfileQuery, parseProfileQuery } from './profile-query.ts';
import { parseSandwichTarget, sandwichHref, shareSandwichHref } from './sandwich-links.ts';

test('a sandwich link carries the function and the query it was opened from', () => {
	const href = sandwichHref(
		{ name: 'std::vector<int>::push_back', module: 'app' },
		{ ...defaultProfileQuery, range: { kind: 'relative', preset: '1h' }, pid: 7 },
	);
	assert.equal(href, '/sandwich?fn=std%3A%3Avector%3Cint%3E%3A%3Apush_back&module=app&range=1h&pid=7');
	const params = new URLSearchParams(href.slice('/sandwich?'.length));
	assert.deepEqual(parseSandwichTarget(params), { name: 'std::vector<int>::push_back', module: 'app' });
	const { state } = parseProfileQuery(params);
	assert.deepEqual([state.range, state.pid], [{ kind: 'relative', preset: '1h' }, 7]);
	assert.equal(sandwichHref({ name: 'f' }, defaultProfileQuery), '/sandwich?fn=f');
	assert.equal(shareSandwichHref('rnQ-5DMsfEuBhZ6sLyMYmw', { name: 'f' }), '/s/rnQ-5DMsfEuBhZ6sLyMYmw/sandwich?fn=f');
	assert.equal(parseSandwichTarget(new URLSearchParams('fn=%20')), null);
});
