import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClickhouseUrl } from './clickhouse/clickhouse-url.ts';
import { parseStorageUrl } from './storage-url.ts';

test('store URLs: sqlite files and directories, ClickHouse databases, one-line refusals', () => {
	assert.deepEqual(parseStorageUrl('sqlite:./data/firesight.db'), { backend: 'sqlite', path: './data/firesight.db' });
	assert.deepEqual(parseStorageUrl('sqlite:///var/lib/firesight/'), { backend: 'sqlite', dataDir: '/var/lib/firesight/' });
	assert.deepEqual(parseStorageUrl('sqlite::memory:'), { backend: 'sqlite', path: ':memory:' });
	assert.deepEqual(parseStorageUrl('clickhouse://db.internal:8123/fleet'), {
		backend: 'clickhouse',
		url: 'clickhouse://db.internal:8123/fleet',
	});
	assert.throws(() => parseStorageUrl('sqlite:'), /names no file/);
	assert.throws(
		() => parseStorageUrl('postgres://x/y'),
		/^Error: unknown store 'postgres:\/\/x\/y': expected sqlite:PATH or clickhouse:\/\/HOST:PORT\/DB$/,
	);
	assert.throws(() => parseStorageUrl('clickhouse://h:1/a;DROP'), /database name/);

	assert.deepEqual(parseClickhouseUrl('clickhouse://ann:s%40cret@10.0.0.5:9123/fleet'), {
		httpUrl: 'http://10.0.0.5:9123',
		database: 'fleet',
		username: 'ann',
		password: 's@cret',
	});
	assert.deepEqual(parseClickhouseUrl('clickhouse://[::1]'), {
		httpUrl: 'http://[::1]:8123',
		database: 'firesight',
		username: 'default',
		password: '',
	});
	assert.throws(() => parseClickhouseUrl('clickhouse://h/db?x=1'), /takes no query/);
	assert.throws(() => parseClickhouseUrl('http://h/db'), /not a ClickHouse URL/);
});
