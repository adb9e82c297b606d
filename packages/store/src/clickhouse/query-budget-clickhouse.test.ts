import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { clickhouseRequired, clickhouseStatement, startClickhouse } from '@firesight/testing/clickhouse-server';
import { QueryAbortedError, withQueryBudget } from '../query-budget.ts';
import { openStorage } from '../storage.ts';

const started = await startClickhouse();

test('a ClickHouse read under a spent budget is aborted by the client, and runs under a live one', async (t) => {
	if ('reason' in started) {
		if (clickhouseRequired()) throw new Error(`FIRESIGHT_REQUIRE_BPF=1 or CI is set, but this test ${started.reason}`);
		t.skip(`${started.reason} (set FIRESIGHT_REQUIRE_BPF=1 to fail instead)`);
		return;
	}
	const server = started.server;
	after(() => server.stop());
	const database = `firesight_test_${randomBytes(6).toString('hex')}`;
	const storage = await openStorage({ backend: 'clickhouse', url: server.url.replace(/\/[^/]*$/, `/${database}`) });
	try {
		const T0 = 1_700_000_000_000;
		await storage.profiles.insertWindow({
			host: 'box',
			startMs: T0,
			durationMs: 10_000,
			frequencyHz: 100,
			frames: [{ name: 'main', module: 'app', kind: 'user' }],
			samples: [{ pid: 1, comm: 'app', stack: [0], weight: 2 }],
		});
		const range = { fromMs: T0, toMs: T0 + 10_000 };
		const live = { signal: new AbortController().signal, deadlineMs: Number.MAX_SAFE_INTEGER };
		assert.equal((await withQueryBudget(live, () => storage.profiles.query(range))).windows, 1);
		const left = new AbortController();
		left.abort(new QueryAbortedError());
		await assert.rejects(
			withQueryBudget({ signal: left.signal, deadlineMs: Number.MAX_SAFE_INTEGER }, () => storage.profiles.query(range)),
			(err: Error) => err instanceof QueryAbortedError || err.name === 'AbortError' || /abort/i.test(err.message),
		);
		// Aborted once the read is under way: the client's own abort signal ends the HTTP request.
		const midway = new AbortController();
		const pending = withQueryBudget({ signal: midway.signal, deadlineMs: Number.MAX_SAFE_INTEGER }, () => storage.profiles.query(range));
		midway.abort(new QueryAbortedError());
		await assert.rejects(
			pending,
			(err: Error) => err instanceof QueryAbortedError || err.name === 'AbortError' || /abort/i.test(err.message),
		);
		// Outside any budget (ingest, retention) the client is as before.
		assert.equal((await storage.profiles.query(range)).windows, 1);
	} finally {
		await storage.close();
		await clickhouseStatement(server, `DROP DATABASE IF EXISTS ${database}`);
	}
});
