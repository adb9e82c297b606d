/**
 * A hub whose store is slower than its collector: the hub stops reading the connection at its
 * bound (DEFAULT_MAX_HELD_MESSAGES), TCP backs up into the collector's HubStream, whose own
 * bounded queue of requests then drops the oldest, counted. Once the store catches up, every
 * request the collector did not count as dropped is stored. The real HubStream against a real hub;
 * only the hub's request store is wrapped, to hold its writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestRecord } from '@firesight/protocol';
import { metricValue } from '@firesight/testing/metrics-text';
import { streamRequest } from '@firesight/testing/request-records';
import { DEFAULT_MAX_HELD_MESSAGES, startHub } from '@firesight/web/server';
import { HubStream } from './hub-stream.ts';

const TOKEN = 'backpressure-token';

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await cond())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 20));
	}
}

async function metricsOf(url: string): Promise<string> {
	const res = await fetch(`${url}/metrics`);
	assert.equal(res.status, 200);
	return res.text();
}

test('a store slower than its collector: the hub holds at most its bound, the collector counts what its queue cannot hold, the rest is stored', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-backpressure-'));
	const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir: dir, token: TOKEN, web: false, log: () => {} });
	const real = hub.storage.requests.insertBatch.bind(hub.storage.requests);
	let open = false;
	const waiting: (() => void)[] = [];
	let stored = 0;
	hub.storage.requests.insertBatch = async (batch) => {
		while (!open) await new Promise<void>((resolve) => waiting.push(resolve));
		await real(batch);
		stored += batch.requests.length;
	};
	const release = () => {
		open = true;
		for (const wake of waiting.splice(0)) wake();
	};
	const stream = new HubStream({ hub: hub.url, token: TOKEN, hello: { host: 'bp-host', version: 'test', frequencyHz: 99 } });
	try {
		await until('connected', () => stream.counters.connected);
		const now = Date.now();
		const request = (i: number): RequestRecord => streamRequest(i, now - 1000 + (i % 1000));
		let sent = 0;
		// The collector keeps capturing while the store holds every write, until its queue of
		// requests overflows: that happens only once the hub stops reading and TCP backs up. With the
		// bound it does after about 65,000 requests; without it, never (the hub reads them all).
		while (stream.counters.dropped.requests === 0) {
			assert.ok(sent < 500_000, `the collector saw no backpressure after ${sent} requests`);
			const requests = Array.from({ length: 500 }, (_, k) => request(sent + k));
			stream.send({ type: 'requests', batch: { host: 'bp-host', ts: now, requests, omitted: 0 } });
			sent += requests.length;
			await new Promise((resolve) => setImmediate(resolve));
		}
		const stalled = await metricsOf(hub.url);
		assert.equal(stored, 0);
		// Batches merge up to 2,000 requests, several times one socket read: the bound is exact.
		assert.ok(metricValue(stalled, 'firesight_hub_ingest_held_peak_messages') <= DEFAULT_MAX_HELD_MESSAGES, stalled);
		assert.ok(metricValue(stalled, 'firesight_hub_ingest_paused_total') >= 1, stalled);

		release();
		const dropped = () => stream.counters.dropped.requests;
		await until('every request sent is stored or counted as dropped by the collector', () => stored + dropped() === sent);
		assert.ok(stored > 0 && dropped() > 0);
		assert.equal(stream.counters.queued, 0);
		assert.ok(metricValue(await metricsOf(hub.url), 'firesight_hub_ingest_held_peak_messages') <= DEFAULT_MAX_HELD_MESSAGES);
	} finally {
		release();
		await stream.close();
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	}
});
