import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { collector } from './collector.ts';
import { hub } from './hub.ts';

test('--token-file reads the token a mounted secret holds, without its trailing newline', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-token-file-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const file = join(dir, 'token');
	writeFileSync(file, 's3cret-token\n');
	const args = collector.parse(['--hub', 'http://127.0.0.1:7300', '--token-file', file], {}) as { 'token-file'?: string; token?: string };
	assert.equal(args['token-file'], 's3cret-token');
	assert.equal(args.token, undefined);
	writeFileSync(file, 'two words\n');
	assert.throws(() => hub.parse(['--token-file', file], {}), /--token-file holds no usable token \(it must be 8 to 512 visible ASCII/);
});

test('--store names the backend and where it keeps its data', () => {
	const storeOf = (url: string) => (hub.parse(['--store', url], {}) as { store?: unknown }).store;
	assert.deepEqual(storeOf('clickhouse://127.0.0.1:8123/firesight'), {
		backend: 'clickhouse',
		url: 'clickhouse://127.0.0.1:8123/firesight',
	});
	assert.deepEqual(storeOf('sqlite:/srv/firesight/'), { backend: 'sqlite', dataDir: '/srv/firesight/' });
	assert.deepEqual(storeOf('sqlite:hub.db'), { backend: 'sqlite', path: 'hub.db' });
	assert.equal((hub.parse([], {}) as { store?: unknown }).store, undefined);
});
