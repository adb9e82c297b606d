import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseKallsyms } from './kallsyms.ts';

const TEXT = [
	'ffffffff81000000 T _text',
	'ffffffff81000000 T startup_64',
	'ffffffff81000100 t helper',
	'ffffffff81000180 D some_data',
	'ffffffff81000200 W weak_fn',
	'ffffffffc0001000 t nft_do_chain\t[nf_tables]',
	'ffffffffc0001400 T nft_other\t[nf_tables]',
].join('\n');

test('text symbols extend to the next, with module tags', () => {
	const t = parseKallsyms(TEXT);
	const at = (a: bigint) => {
		const i = t.find(a);
		return i < 0 ? undefined : [t.name(i), t.tag(i)];
	};
	assert.deepEqual(at(0xffffffff81000000n), ['startup_64', undefined]);
	assert.deepEqual(at(0xffffffff810000ffn), ['startup_64', undefined]);
	assert.deepEqual(at(0xffffffff81000190n), ['helper', undefined], 'data symbols are not functions');
	assert.deepEqual(at(0xffffffff81000210n), ['weak_fn', undefined]);
	assert.equal(at(0xffffffffa0000000n), undefined, 'the gap before modules is nobody');
	assert.deepEqual(at(0xffffffffc0001010n), ['nft_do_chain', 'nf_tables']);
	assert.deepEqual(at(0xffffffffc0001410n), ['nft_other', 'nf_tables']);
	assert.equal(at(0xffffffff80000000n), undefined);
});

test('zeroed addresses (unprivileged reader) give an empty table', () => {
	const t = parseKallsyms('0000000000000000 T _text\n0000000000000000 t helper\n');
	assert.equal(t.size, 0);
	assert.equal(t.find(0n), -1);
});
