/**
 * A hub whose store is slower than its collector: the hub stops reading the connection at its
 * bound (DEFAULT_MAX_HELD_MESSAGES), TCP backs up into the collector's HubStream, whose own
 * bounded queue of requests then drops the oldest, counted. Once the store catches up, every
 * request the collector did not count as dropped is stored. A collector that reconnects meanwhile
 * adds nothing: the bound is per host. The real HubStream against a real hub; only the hub's
 * request store is wrapped, to hold its writes.
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

/** Waits for `cond`; a timeout says what was awaited, and `state()` what there was instead. */
async function until(what: string, cond: () => boolean | Promise<boolean>, state = () => '', timeoutMs = 120_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await cond())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${state()}`.trim());
		await new Promise((r) => setTimeout(r, 20));
	}
}

async function metricsOf(url: string): Promise<string> {
	const res = await fetch(`${url}/metrics`);
	assert.equal(res.status, 200);
	return res.text();
}

/**
 * A hub whose request store holds every write until `release()`: what it stored since, by count
 * and by path (the query is redacted, so without it). `close()` releases, stops it and removes its data.
 */
async function stalledHub() {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-backpressure-'));
	const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir: dir, token: TOKEN, web: false, log: () => {} });
	const real = hub.storage.requests.insertBatch.bind(hub.storage.requests);
	let open = false;
	const waiting: (() => void)[] = [];
	const store = { hub, stored: 0, paths: new Set<string>(), release, close };
	hub.storage.requests.insertBatch = async (batch) => {
		while (!open) await new Promise<void>((resolve) => waiting.push(resolve));
		await real(batch);
		store.stored += batch.requests.length;
		for (const r of batch.requests) store.paths.add(r.path.split('?')[0]!);
	};
	function release(): void {
		open = true;
		for (const wake of waiting.splice(0)) wake();
	}
	async function close(): Promise<void> {
		release();
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	}
	return store;
}

test('a store slower than its collector: the hub holds at most its bound, the collector counts what its queue cannot hold, the rest is stored', async () => {
	const store = await stalledHub();
	const { hub, release } = store;
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
		assert.equal(store.stored, 0);
		// Batches merge up to 2,000 requests, several times one socket read: the bound is exact.
		assert.ok(metricValue(stalled, 'firesight_hub_ingest_held_peak_messages') <= DEFAULT_MAX_HELD_MESSAGES, stalled);
		assert.ok(metricValue(stalled, 'firesight_hub_ingest_paused_total') >= 1, stalled);

		release();
		const dropped = () => stream.counters.dropped.requests;
		await until('every request sent is stored or counted as dropped by the collector', () => store.stored + dropped() === sent);
		assert.ok(store.stored > 0 && dropped() > 0);
		assert.equal(stream.counters.queued, 0);
		assert.ok(metricValue(await metricsOf(hub.url), 'firesight_hub_ingest_held_peak_messages') <= DEFAULT_MAX_HELD_MESSAGES);
	} finally {
		release();
		await stream.close();
		await store.close();
	}
});

test('a stalled store behind a collector that reconnects: the bound is the host’s, not each connection’s', async () => {
	const store = await stalledHub();
	const { hub, release } = store;
	// A hub that stops reading answers no ping: the collector takes it for hung and connects again,
	// as it would after any network blip. Each old connection's messages stay held until the store moves.
	const stream = new HubStream({
		hub: hub.url,
		token: TOKEN,
		hello: { host: 'bp-host', version: 'test', frequencyHz: 99 },
		pingIntervalMs: 50,
		pingDeadlineMs: 300,
		initialBackoffMs: 10,
		maxBackoffMs: 50,
	});
	const held = async () => metricValue(await metricsOf(hub.url), 'firesight_hub_ingest_held_messages');
	try {
		await until('connected', () => stream.counters.connected);
		const now = Date.now();
		let sent = 0;
		let most = 0;
		const CONNECTIONS = 6;
		// The collector keeps capturing while the store holds every write and it reconnects.
		while (stream.counters.connects < CONNECTIONS) {
			const requests = Array.from({ length: 500 }, (_, k) => streamRequest(sent + k, now - 1000 + ((sent + k) % 1000)));
			stream.send({ type: 'requests', batch: { host: 'bp-host', ts: now, requests, omitted: 0 } });
			sent += requests.length;
			await new Promise((resolve) => setTimeout(resolve, 5));
			most = Math.max(most, await held());
		}
		// Once more after the last connection has had its time to deliver.
		await until('the last connection stopped', async () => {
			most = Math.max(most, await held());
			return stream.counters.connects > CONNECTIONS || !stream.counters.connected;
		});
		const stalled = await metricsOf(hub.url);
		assert.equal(store.stored, 0);
		// One host: whatever its connections, it holds its bound (plus the hello that named it).
		assert.ok(most <= DEFAULT_MAX_HELD_MESSAGES + 1, `${most} messages held over ${stream.counters.connects} connections\n${stalled}`);
		assert.ok(metricValue(stalled, 'firesight_hub_ingest_held_peak_messages') <= DEFAULT_MAX_HELD_MESSAGES + 1, stalled);

		release();
		await until('the store caught up and nothing is held', async () => (await held()) === 0 && stream.counters.queued === 0);
		// One more request: once it is stored, everything written before it on its connection has
		// been handled (the hub takes a connection's messages in order). The hub, busy storing the
		// backlog, may miss a 300 ms ping deadline, and a connection that ends takes the marker with
		// it, counted: then another one is sent.
		const lost = () => stream.counters.dropped.requests + stream.counters.dropped.requestsUnconfirmed;
		let markers = 0;
		for (let stored = false; !stored;) {
			assert.ok(markers < 20, `${markers} markers sent after the stall, none stored`);
			const marker = streamRequest(sent + markers++, now);
			const lostBefore = lost();
			stream.send({ type: 'requests', batch: { host: 'bp-host', ts: now, requests: [marker], omitted: 0 } });
			const path = marker.path.split('?')[0]!;
			await until(
				'a request after the stall stored, or counted lost',
				() => store.paths.has(path) || lost() > lostBefore,
				() => `(marker ${markers}, ${store.stored} stored; collector ${JSON.stringify(stream.counters)})`,
			);
			stored = store.paths.has(path);
		}
		// What a connection had written and the hub had not answered may be gone with it (requests
		// are not replayed): the collector counts it as unconfirmed. Every request is stored or counted.
		const { requests: dropped, requestsUnconfirmed } = stream.counters.dropped;
		assert.ok(requestsUnconfirmed > 0, 'connections ended with requests the hub had not answered');
		assert.ok(
			store.stored + dropped + requestsUnconfirmed >= sent + markers,
			`${sent + markers} sent, ${store.stored} stored, ${dropped} dropped, ${requestsUnconfirmed} unconfirmed`,
		);
	} finally {
		release();
		await stream.close();
		await store.close();
	}
});
