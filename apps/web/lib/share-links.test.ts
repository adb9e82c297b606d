import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultProfileQuery, parseProfileQuery, toSearchParams } from './profile-query.ts';
import { isShareId, shareDownloadHref, shareHref, viewStateOf } from './share-links.ts';

test('share links carry the view parameters only, and ids have one shape', () => {
	const state = viewStateOf(new URLSearchParams('range=1h&pid=7&view=graph&orient=flame&q=hot_fn&extra=1'));
	assert.deepEqual(state, { view: 'graph', orient: 'flame', q: 'hot_fn' });
	assert.equal(shareHref('A'.repeat(22), state), `/s/${'A'.repeat(22)}?view=graph&orient=flame&q=hot_fn`);
	assert.equal(shareHref('A'.repeat(22)), `/s/${'A'.repeat(22)}`);
	assert.equal(shareDownloadHref('x_y', 'folded'), '/api/pprof?share=x_y&format=folded');
	assert.ok(isShareId('rnQ-5DMsfEuBhZ6sLyMYmw'));
	for (const bad of ['', 'short', 'rnQ-5DMsfEuBhZ6sLyMYm/', 'rnQ-5DMsfEuBhZ6sLyMYmww']) assert.equal(isShareId(bad), false, bad);
});

test('zoom path and table order go into the URL and come back; the default order stays out of it', () => {
	const state = {
		...defaultProfileQuery,
		orientation: 'flame' as const,
		search: 'hot',
		zoom: ['app', 'main', 'work'],
		sort: { columnId: 'total' as const, direction: 'desc' as const },
	};
	const params = toSearchParams(state);
	assert.equal(params.toString(), 'orient=flame&q=hot&zoom=app%3Bmain%3Bwork&sort=total');
	const back = parseProfileQuery(params);
	assert.deepEqual(back.warnings, []);
	assert.deepEqual([back.state.zoom, back.state.sort], [state.zoom, state.sort]);
	assert.deepEqual(viewStateOf(params), { orient: 'flame', q: 'hot', zoom: 'app;main;work', sort: 'total' });
	assert.equal(toSearchParams({ ...state, zoom: [], sort: { columnId: 'self', direction: 'desc' } }).toString(), 'orient=flame&q=hot');
	assert.deepEqual(parseProfileQuery(new URLSearchParams('sort=name')).state.sort, { columnId: 'name', direction: 'asc' });
	assert.deepEqual(parseProfileQuery(new URLSearchParams('sort=self-asc')).state.sort, { columnId: 'self', direction: 'asc' });
	const bad = parseProfileQuery(new URLSearchParams('sort=speed'));
	assert.equal(bad.state.sort, undefined);
	assert.equal(bad.warnings[0]?.param, 'sort');
});
