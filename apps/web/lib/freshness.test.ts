import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isStale, liveFreshness, STALE_AFTER_MS, staleNote } from './freshness.ts';
import { initialLiveState, processRows, reduceMessage } from './live-store.ts';
import { connectionRows } from './network.ts';
import type { LiveConnectionsMessage } from './live-messages.ts';

const connections = (host: string, ts: number): LiveConnectionsMessage => ({
	type: 'connections',
	host,
	ts,
	connections: [
		{
			key: '4:10.0.0.1:40000:10.0.0.2:443:7',
			cookie: '1',
			pid: 7,
			comm: 'curl',
			family: 4,
			saddr: '10.0.0.1',
			sport: 40000,
			daddr: '10.0.0.2',
			dport: 443,
			state: 'ESTABLISHED',
			direction: 'active',
			openedAt: ts,
			openedBeforeTracing: false,
			closedAt: null,
			ageMs: 0,
			bytesSent: 1,
			bytesReceived: 1,
			retransmits: 0,
			retransmitsPerSecond: 0,
			firstRetransmitAt: null,
			lastRetransmitAt: null,
		},
	],
	omitted: 0,
	processes: [],
	totals: { connections: 1, openConnections: 1, retransmits: 0, retransmitsPerSecond: 0 },
});

test('a snapshot is judged by when it arrived, not by the collector clock in it', () => {
	// The collector stamped it 30 s before the browser could read it (a busy page, a slow hop):
	// it arrived just now, so it is current.
	const arrived = 100_000;
	let state = reduceMessage(initialLiveState, connections('h', arrived - 30_000), arrived);
	state = reduceMessage(
		state,
		{ type: 'processes', host: 'h', ts: arrived - 30_000, rows: [{ pid: 7, comm: 'curl', cmdline: '', cpuPercent: 1, samplesPerSec: 1 }] },
		arrived,
	);
	const rows = connectionRows(state.connections, arrived + 1_000);
	assert.deepEqual(
		rows.map((r) => [r.host, r.pid, r.stale]),
		[['h', 7, false]],
	);
	assert.deepEqual(
		processRows(state.processes, arrived + 1_000).map((r) => [r.host, r.pid, r.stale]),
		[['h', 7, false]],
	);
	assert.equal(liveFreshness(state.connections.values(), arrived + 1_000).state, 'fresh');

	// A collector clock ahead of the browser's changes nothing either.
	state = reduceMessage(state, connections('h', arrived + 60_000), arrived + 2_000);
	assert.equal(connectionRows(state.connections, arrived + 2_500)[0]!.stale, false);
});

test('a snapshot that stops updating stays shown, marked stale, with its age', () => {
	const state = reduceMessage(initialLiveState, connections('h', 5_000), 10_000);
	const later = 10_000 + STALE_AFTER_MS + 7_000;
	const rows = connectionRows(state.connections, later);
	assert.equal(rows.length, 1, 'old data is still data');
	assert.equal(rows[0]!.stale, true);
	const freshness = liveFreshness(state.connections.values(), later);
	assert.deepEqual(freshness, { state: 'stale', lastReceivedAt: 10_000, ageMs: 12_000 });
	assert.equal(staleNote(freshness), 'last update 12 s ago');
	assert.equal(staleNote(liveFreshness(state.connections.values(), 10_500)), null, 'no note while fresh');
});

test('nothing received is "none", not stale; the newest host decides for the page', () => {
	assert.deepEqual(liveFreshness([], 1_000), { state: 'none', lastReceivedAt: null, ageMs: null });
	assert.equal(staleNote(liveFreshness([], 1_000)), null);
	const page = liveFreshness([{ receivedAt: 1_000 }, { receivedAt: 20_000 }], 21_000);
	assert.equal(page.state, 'fresh');
	assert.equal(page.lastReceivedAt, 20_000);
	assert.equal(isStale({ receivedAt: 1_000 }, 21_000), true, 'the quiet host alone is stale');
	// `now` read just before a message lands: the age is zero, not negative.
	assert.equal(liveFreshness([{ receivedAt: 2_000 }], 1_990).ageMs, 0);
});

test('the edge: exactly STALE_AFTER_MS old is still fresh, a millisecond more is stale', () => {
	assert.equal(isStale({ receivedAt: 0 }, STALE_AFTER_MS), false);
	assert.equal(isStale({ receivedAt: 0 }, STALE_AFTER_MS + 1), true);
});
