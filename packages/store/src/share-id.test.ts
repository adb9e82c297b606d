import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isShareId, newShareId } from './share-store.ts';

test('share ids are 128 random bits, url-safe, and never start with a dash a command line would read as an option', () => {
	const ids = new Set<string>();
	for (let i = 0; i < 10_000; i++) {
		const id = newShareId();
		assert.ok(isShareId(id), id);
		assert.equal(Buffer.from(id, 'base64url').length, 16);
		assert.ok(!id.startsWith('-'), id);
		ids.add(id);
	}
	assert.equal(ids.size, 10_000);
});
