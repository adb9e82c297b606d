import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { REQUEST_LATENCY_BUCKETS, type EndpointRequestStats, type RequestRecord, type RequestWindow } from '@firesight/protocol';
import { migrate, migrations } from './migrations.ts';
import { histogramQuantile } from './requests-histogram.ts';
import { SqliteRequestStore } from './requests-sqlite.ts';

function req(over: Partial<RequestRecord>): RequestRecord {
	return {
		ts: 1000, pid: 10, comm: 'node', role: 'server', method: 'GET', path: '/a', endpoint: '/a', status: 200,
		latencyMs: 1, reqBytes: 10, respBytes: 20, local: '127.0.0.1:443', remote: '127.0.0.1:5000', connection: '10:3:1',
		httpVersion: '1.1', requestHeaders: [['authorization', '[REDACTED]'], ['host', 'x']], responseHeaders: [], ...over,
	};
}

function hist(entries: Record<number, number>): number[] {
	const h = new Array<number>(REQUEST_LATENCY_BUCKETS).fill(0);
	for (const [i, n] of Object.entries(entries)) h[Number(i)] = n;
	return h;
}

function ep(over: Partial<EndpointRequestStats>): EndpointRequestStats {
	return {
		pid: 10, comm: 'node', role: 'server', method: 'GET', endpoint: '/users/:id', count: 0, errors: 0, clientErrors: 0,
		reqBytes: 0, respBytes: 0, sumLatencyMs: 0, maxLatencyMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, histogram: hist({}), ...over,
	};
}

const win = (startMs: number, endpoints: EndpointRequestStats[], host = 'h'): RequestWindow => ({ host, startMs, durationMs: 10_000, processes: [], endpoints });

test('requests round-trip as received, newest first or oldest first, filtered by host and pid', async () => {
	const store = new SqliteRequestStore({ path: ':memory:', pruneIntervalMs: 0 });
	await store.insertRequests({ host: 'h', ts: 2000, omitted: 0, requests: [req({ ts: 1000.5 }), req({ ts: 1500, pid: 11, path: '/b', responseBody: 'ok' })] });
	await store.insertRequests({ host: 'g', ts: 2000, omitted: 0, requests: [req({ ts: 1200 })] });
	const recent = await store.recentRequests({ limit: 10 });
	assert.deepEqual(recent.map((r) => [r.host, r.ts]), [['h', 1500], ['g', 1200], ['h', 1000.5]]);
	assert.deepEqual(recent[2], { host: 'h', ...req({ ts: 1000.5 }) });
	assert.equal(recent[0]!.responseBody, 'ok');
	assert.deepEqual((await store.recentRequests({ limit: 10, pid: 11 })).map((r) => r.path), ['/b']);
	assert.deepEqual((await store.listRequests({ sinceMs: 1100, limit: 10, host: 'h' })).map((r) => r.ts), [1500]);
	assert.deepEqual((await store.listRequests({ sinceMs: 0, untilMs: 1300, limit: 10 })).map((r) => r.ts), [1000.5, 1200]);
	await store.close();
});

test('endpoints merge windows: counts, rates, error rate and percentiles from the summed histograms', async () => {
	const store = new SqliteRequestStore({ path: ':memory:', pruneIntervalMs: 0 });
	// 90 requests in [1, 2) ms (bucket 10 = 1024..2048 µs) and 10 in [32, 64) ms (bucket 15).
	await store.insertRequestWindow(win(0, [ep({ count: 50, errors: 5, clientErrors: 1, sumLatencyMs: 75, maxLatencyMs: 1.9, histogram: hist({ 10: 50 }) })]));
	await store.insertRequestWindow(win(10_000, [
		ep({ count: 50, errors: 5, sumLatencyMs: 400, maxLatencyMs: 60, histogram: hist({ 10: 40, 15: 10 }) }),
		ep({ method: 'POST', endpoint: '/login', count: 3, histogram: hist({ 12: 3 }), maxLatencyMs: 5 }),
	]));
	await store.insertRequestWindow(win(0, [ep({ count: 7, histogram: hist({ 3: 7 }), maxLatencyMs: 0.01 })], 'other'));
	const r = await store.endpoints({ fromMs: 0, toMs: 100_000, host: 'h' });
	assert.equal(r.windows, 2);
	assert.equal(r.coveredMs, 20_000);
	const users = r.endpoints[0]!;
	assert.equal(users.endpoint, '/users/:id');
	assert.equal(users.count, 100);
	assert.equal(users.ratePerSec, 5);
	assert.equal(users.errorRate, 0.1);
	assert.equal(users.clientErrors, 1);
	assert.equal(users.meanMs, 4.75);
	assert.ok(users.p50Ms >= 1.024 && users.p50Ms < 2.048, `p50 ${users.p50Ms}`);
	assert.ok(users.p90Ms >= 1.024 && users.p90Ms <= 2.048, `p90 ${users.p90Ms}`);
	assert.ok(users.p99Ms >= 32.768 && users.p99Ms <= 60, `p99 ${users.p99Ms}`);
	assert.equal(r.endpoints[1]!.endpoint, '/login');
	// Windows are picked by their start.
	assert.equal((await store.endpoints({ fromMs: 5_000, toMs: 100_000, host: 'h' })).endpoints[0]!.count, 50);

	const h = await store.histogram({ fromMs: 0, toMs: 100_000, host: 'h', endpoint: '/users/:id', method: 'GET' });
	assert.equal(h.count, 100);
	assert.deepEqual(h.buckets.map((b) => [b.index, b.count]), [[10, 90], [11, 0], [12, 0], [13, 0], [14, 0], [15, 10]]);
	assert.equal(h.buckets[0]!.lowMs, 1.024);
	assert.equal((await store.histogram({ fromMs: 0, toMs: 1, endpoint: '/nothing' })).buckets.length, 0);
	await store.close();
});

test('histogram quantiles interpolate inside the bucket and stay under the largest latency', () => {
	assert.equal(histogramQuantile(hist({}), 0.5), 0);
	assert.equal(histogramQuantile(hist({ 10: 2 }), 0.5), 1.024 + 0.5 * 1.024);
	assert.equal(histogramQuantile(hist({ 10: 2 }), 1, 1.5), 1.5);
});

test('prune drops what is past retention and requests over the cap', async () => {
	const store = new SqliteRequestStore({ path: ':memory:', pruneIntervalMs: 0, retentionMs: 60_000, maxRequests: 2 });
	await store.insertRequestWindow(win(0, [ep({ count: 1, histogram: hist({ 1: 1 }) })]));
	await store.insertRequestWindow(win(100_000, [ep({ count: 2, histogram: hist({ 1: 2 }) })]));
	await store.insertRequests({ host: 'h', ts: 0, omitted: 0, requests: [req({ ts: 1 }), req({ ts: 100_001 }), req({ ts: 100_002 }), req({ ts: 100_003 })] });
	assert.equal(await store.prune(120_000), 3);
	assert.equal((await store.endpoints({ fromMs: 0, toMs: 1e6 })).endpoints[0]!.count, 2);
	assert.deepEqual((await store.listRequests({ sinceMs: 0, limit: 10 })).map((r) => r.ts), [100_002, 100_003]);
	await store.close();
});

test('migration 4 runs on a database at version 3, and on one marked past it without the tables', () => {
	const db = new Database(':memory:');
	assert.equal(migrate(db, migrations.filter((m) => m.version <= 3)), 3);
	assert.equal(migrate(db), 4);
	const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('http_requests', 'request_endpoints') ORDER BY name").all();
	assert.deepEqual(tables, [{ name: 'http_requests' }, { name: 'request_endpoints' }]);
	assert.deepEqual([...migrations].map((m) => m.version).sort((a, b) => a - b), migrations.map((m) => m.version), 'the list stays sorted by version');
	assert.equal(new Set(migrations.map((m) => m.version)).size, migrations.length, 'versions are unique');
	db.close();

	// A build that had migration 5 but not this one marked the file past 4 without the tables.
	const dir = mkdtempSync(join(tmpdir(), 'firesight-req-'));
	try {
		const file = new Database(join(dir, 'firesight.db'));
		migrate(file, migrations.filter((m) => m.version !== 4));
		file.pragma('user_version = 4');
		file.close();
		const store = new SqliteRequestStore({ dataDir: dir, pruneIntervalMs: 0 });
		return store.insertRequests({ host: 'h', ts: 0, omitted: 0, requests: [req({})] }).then(async () => {
			assert.equal((await store.recentRequests({ limit: 5 })).length, 1);
			await store.close();
		}).finally(() => rmSync(dir, { recursive: true, force: true }));
	} catch (err) {
		rmSync(dir, { recursive: true, force: true });
		throw err;
	}
});
