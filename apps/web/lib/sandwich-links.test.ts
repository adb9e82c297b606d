import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultProfileQuery, parseProfileQuery } from './profile-query.ts';
import { parseSandwichTarget, sandwichHref, sandwichQueryWarnings, shareSandwichHref } from './sandwich-links.ts';

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

test('a sandwich link with a bad profile parameter names it; its own fn and module are not warned about', () => {
	const warned = (href: string) =>
		sandwichQueryWarnings(parseProfileQuery(new URLSearchParams(href.slice('/sandwich?'.length))).warnings).map((w) => w.param);
	assert.deepEqual(warned(sandwichHref({ name: 'main', module: 'app' }, { ...defaultProfileQuery, pid: 7 })), []);
	assert.deepEqual(warned('/sandwich?fn=main&module=app&pid=abc'), ['pid']);
	assert.deepEqual(warned('/sandwich?fn=main&range=7y&pid=12'), ['range']);
});
