import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAX_REQUESTS_PER_BATCH, MAX_REQUESTS_PER_SECOND, type RequestRecord } from '@firesight/protocol';
import { requestRecord } from '@firesight/testing/request-records';
import { startHub, type Hub } from '@firesight/web/server';
import { startCollector, type Collector } from '../collector-agent.ts';
import type { Feature } from '../feature.ts';
import { RequestAggregator } from './request-aggregates.ts';
import type { TlsCaptureCounters } from './tls-capture.ts';
import { tlsFeature, type TlsCaptureLike } from './tls-feature.ts';

// The path from a capture's records to the hub's store, at the rate the capture-cost target names:
// 5,000 requests/s traced on both sides are 10,000 records a second.

const TOKEN = 'request-delivery-token';

/** A capture with no kernel under it: records come when the test says, a ring-buffer drain at a time. */
class FakeCapture extends EventEmitter implements TlsCaptureLike {
	readonly agg = new RequestAggregator();
	start() {}
	stop() {}
	drainAggregates() {
		return this.agg.drain();
	}
	counters(): TlsCaptureCounters {
		return {
			kernel: {},
			discovery: { attachedFiles: 0, attachFailures: 0, processesScanned: 0, tlsProcesses: 0 },
			connections: {
				open: 0,
				closed: 0,
				evicted: 0,
				unboundSeen: 0,
				parseErrors: 0,
				desyncs: 0,
				skippedBytes: 0,
				filledGaps: 0,
				unpairedResponses: 0,
				unansweredRequests: 0,
				pendingDropped: 0,
			},
			requests: 0,
			otherProtocolBytes: 0,
		} as TlsCaptureCounters;
	}
	drain(records: RequestRecord[]) {
		for (const r of records) {
			this.agg.add(r);
			this.emit('request', r);
		}
	}
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 180_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 250));
	}
}

/** A real hub and a real collector whose only signal is the TLS feature over `fake`. */
async function withPath(
	fake: FakeCapture,
	fn: (hub: Hub, collector: Collector, tls: () => Feature) => Promise<void>,
	now?: () => number,
): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-request-delivery-'));
	const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, dataDir: dir, token: TOKEN, web: false, log: () => {} });
	const definition = tlsFeature({ create: () => fake, ...(now ? { now } : {}) });
	let feature: Feature | undefined;
	const collector = startCollector({
		hub: hub.url,
		token: TOKEN,
		host: 'delivery-host',
		features: [{ ...definition, start: (context) => (feature = definition.start(context)) }],
		log: () => {},
	});
	try {
		await until('the collector to connect', () => collector.stream.counters.connected, 60_000);
		await fn(hub, collector, () => feature!);
	} finally {
		await collector.stop();
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	}
}

/** Distinct paths stored for the host (each record the test makes has its own). */
async function storedPaths(hub: Hub): Promise<Set<string>> {
	const rows = await hub.storage.requests.list({ sinceMs: 0, limit: 1_000_000, host: 'delivery-host' });
	return new Set(rows.map((r) => r.path));
}

/** `count` records with paths `/r/<first>`…, stamped now. */
function records(first: number, count: number): RequestRecord[] {
	const ts = Date.now();
	return Array.from({ length: count }, (_, i) => requestRecord({ ts, pid: 4242, path: `/r/${first + i}`, endpoint: '/r/:id' }));
}

test('10,000 request records a second for three seconds reach the store, every one, with none counted as not sent', async () => {
	const fake = new FakeCapture();
	await withPath(fake, async (hub, collector, tls) => {
		const rate = 10_000;
		const seconds = 3;
		const total = rate * seconds;
		assert.ok(total / seconds > 2 * MAX_REQUESTS_PER_BATCH, 'past the old bound of one batch a 500 ms tick');
		// A drain every 10 ms, each with what the rate owes by then: the rate holds however late the timer fires.
		const start = Date.now();
		let emitted = 0;
		while (emitted < total) {
			const owed = Math.min(total, Math.floor(((Date.now() - start) / 1000) * rate));
			if (owed > emitted) {
				fake.drain(records(emitted, owed - emitted));
				emitted = owed;
			}
			await new Promise((r) => setTimeout(r, 10));
		}
		// Every record accounted for: stored, or counted where it was let go.
		const lost = () => (tls().drops().requestsNotSent ?? 0) + collector.stream.counters.dropped.requests;
		let stored = 0;
		await until(`${total} requests stored or counted`, async () => (stored = (await storedPaths(hub)).size) + lost() >= total);
		assert.deepEqual(
			{ stored, requestsNotSent: tls().drops().requestsNotSent, queueDropped: collector.stream.counters.dropped.requests },
			{ stored: total, requestsNotSent: 0, queueDropped: 0 },
		);
	});
});

test('a burst past the per-second budget is counted as not sent, and every record is stored or counted', async () => {
	const fake = new FakeCapture();
	// The feature's clock stands still during the burst, so the bucket cannot refill while a
	// loaded machine takes its time over the drains: exactly a second's budget goes out.
	let frozenAt: number | undefined;
	const now = () => frozenAt ?? Date.now();
	await withPath(
		fake,
		async (hub, collector, tls) => {
			const total = MAX_REQUESTS_PER_SECOND * 2.5;
			frozenAt = Date.now();
			for (let emitted = 0; emitted < total; emitted += 5_000) {
				fake.drain(records(emitted, 5_000));
				await new Promise((r) => setImmediate(r));
			}
			frozenAt = undefined;
			const notSent = tls().drops().requestsNotSent ?? 0;
			assert.equal(notSent, total - MAX_REQUESTS_PER_SECOND, 'all past the budget counted as not sent');
			// What the queue to the hub let go while the burst outran the socket is counted there.
			const queueDropped = () => collector.stream.counters.dropped.requests;
			let stored = 0;
			await until(
				'every record stored or counted',
				async () => (stored = (await storedPaths(hub)).size) + notSent + queueDropped() >= total,
			);
			assert.equal(stored + notSent + queueDropped(), total, 'every record either stored or counted, once');
			assert.equal(stored, MAX_REQUESTS_PER_SECOND - queueDropped(), "a second's budget stored, less what the queue counted");
		},
		now,
	);
});
