import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import type { ProfileWindow } from '@firesight/protocol';
import { clickhouseRequired, clickhouseStatement, startClickhouse } from '@firesight/testing/clickhouse-server';
import { openStorage } from '../storage.ts';

const started = await startClickhouse();
const T0 = 1_700_000_000_000;

function window(startMs: number, samples: ProfileWindow['samples']): ProfileWindow {
	return { host: 'h', startMs, durationMs: 10_000, frequencyHz: 99, frames: [{ name: 'main', module: 'srv', kind: 'user' }], samples };
}

test('clickhouse: a version 2 database gets the request label columns on open; its rows answer unlabelled', async (t) => {
	if ('reason' in started) {
		if (clickhouseRequired()) throw new Error(`FIRESIGHT_REQUIRE_BPF=1 or CI is set, but this test ${started.reason}`);
		return t.skip(started.reason);
	}
	const { server } = started;
	after(() => server.stop());
	const database = `firesight_labels_${randomBytes(6).toString('hex')}`;
	const url = server.url.replace(/\/[^/]*$/, `/${database}`);
	try {
		let storage = await openStorage({ backend: 'clickhouse', url, pruneIntervalMs: 0 });
		await storage.profiles.insertWindow(window(T0, [{ pid: 5, comm: 'srv', stack: [0], weight: 30 }]));
		await storage.close();
		// What version 2 left: profile_samples without the label columns, and the mark at 2.
		await clickhouseStatement(
			server,
			`ALTER TABLE ${database}.profile_samples DROP COLUMN endpoint, DROP COLUMN request_id, DROP COLUMN ambiguous`,
		);
		await clickhouseStatement(
			server,
			`INSERT INTO ${database}.meta (key, value, at) VALUES ('schema', 2, ${Date.now() * 1000 + 10_000_000})`,
		);
		storage = await openStorage({ backend: 'clickhouse', url, pruneIntervalMs: 0 });
		try {
			const columns = await clickhouseStatement(
				server,
				`SELECT name FROM system.columns WHERE database = '${database}' AND table = 'profile_samples' AND name IN ('endpoint', 'request_id', 'ambiguous') ORDER BY name`,
			);
			assert.deepEqual(columns.trim().split('\n'), ['ambiguous', 'endpoint', 'request_id']);
			const old = await storage.profiles.query({ fromMs: T0, toMs: T0 + 10_000 });
			assert.deepEqual(old.profile.samples, [{ pid: 5, comm: 'srv', stack: [0], weight: 30 }]);
			await storage.profiles.insertWindow(
				window(T0 + 10_000, [{ pid: 5, comm: 'srv', stack: [0], weight: 2, endpoint: 'GET /', requestId: 'b:1' }]),
			);
			const labelled = await storage.profiles.query({ fromMs: T0, toMs: T0 + 20_000, requestId: 'b:1' });
			assert.deepEqual(labelled.profile.samples, [{ pid: 5, comm: 'srv', endpoint: 'GET /', requestId: 'b:1', stack: [0], weight: 2 }]);
		} finally {
			await storage.close();
		}
	} finally {
		await clickhouseStatement(server, `DROP DATABASE IF EXISTS ${database}`);
	}
});
