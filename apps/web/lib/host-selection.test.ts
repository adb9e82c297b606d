import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostInput, isSelected, parseHostSelection, selectionLabel, toggleHost, withHostSelection } from './host-selection.ts';

test('the selection is the repeated host parameters, trimmed and without repeats', () => {
	assert.deepEqual(parseHostSelection(new URLSearchParams('host=a&pid=3&host=%20b%20&host=a&host=')), ['a', 'b']);
	assert.deepEqual(parseHostSelection(new URLSearchParams('pid=3')), []);
});

test('replacing the selection keeps every other parameter', () => {
	const params = new URLSearchParams('range=1h&host=a&pid=3');
	assert.equal(withHostSelection(params, ['b', 'c']).toString(), 'range=1h&pid=3&host=b&host=c');
	assert.equal(withHostSelection(params, []).toString(), 'range=1h&pid=3');
	assert.equal(params.toString(), 'range=1h&host=a&pid=3');
});

test('every host, one, or several', () => {
	assert.deepEqual(hostInput([]), {});
	assert.deepEqual(hostInput(['a']), { host: 'a' });
	assert.deepEqual(hostInput(['a', 'b']), { host: ['a', 'b'] });
	assert.equal(isSelected([], 'x'), true);
	assert.equal(isSelected(['a'], 'x'), false);
	assert.equal(isSelected(['a', 'x'], 'x'), true);
	assert.deepEqual([selectionLabel([]), selectionLabel(['a']), selectionLabel(['a', 'b'])], ['All hosts', 'a', '2 hosts']);
});

test('toggling adds and removes a host; all of them selected is every host', () => {
	assert.deepEqual(toggleHost([], 'a', ['a', 'b', 'c']), ['a']);
	assert.deepEqual(toggleHost(['a'], 'b', ['a', 'b', 'c']), ['a', 'b']);
	assert.deepEqual(toggleHost(['a', 'b'], 'a', ['a', 'b', 'c']), ['b']);
	assert.deepEqual(toggleHost(['a', 'b'], 'c', ['a', 'b', 'c']), []);
	// A host in the URL that is not known (yet) stays selected.
	assert.deepEqual(toggleHost(['gone'], 'a', ['a']), ['gone', 'a']);
});
