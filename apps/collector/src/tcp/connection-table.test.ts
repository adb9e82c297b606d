import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TcpConnection, TcpEvent } from '@firesight/native';
import { ConnectionTable, connectionKey } from './connection-table.ts';
import { RateWindow } from './rate-window.ts';

/** Monotonic ns map to epoch ms as ns / 1e6, so times in these tests read as plain ms. */
const toEpoch = (ns: bigint) => Number(ns) / 1e6;
const ms = (n: number) => BigInt(n) * 1_000_000n;

function conn(over: Partial<TcpConnection> = {}): TcpConnection {
	const c: TcpConnection = {
		cookie: 1n,
		family: 4,
		saddr: '10.0.0.1',
		sport: 40000,
		daddr: '10.0.0.2',
		dport: 80,
		pid: 100,
		comm: 'curl',
		state: 'ESTABLISHED',
		direction: 'active',
		ownerKnown: true,
		midway: false,
		startNs: ms(1000),
		endNs: 0n,
		firstRetransmitNs: 0n,
		lastRetransmitNs: 0n,
		bytesAcked: 0,
		bytesReceived: 0,
		retransmitSegments: 0,
		retransmitSkbs: 0,
		retransmitFailures: 0,
		synackRetransmits: 0,
		retransmits: 0,
		...over,
	};
	c.retransmits = c.retransmitSegments + c.synackRetransmits;
	return c;
}

function retransmit(at: number, segments: number, total: number, over: Partial<TcpConnection> = {}): TcpEvent {
	return {
		kind: 'retransmit',
		tsNs: ms(at),
		segments,
		err: 0,
		oldState: 'UNKNOWN',
		connection: conn({ retransmitSegments: total, firstRetransmitNs: ms(1100), lastRetransmitNs: ms(at), ...over }),
	};
}

function table(now: { t: number }) {
	return new ConnectionTable({ now: () => now.t, monotonicToEpochMs: toEpoch });
}

test('retransmit events add up per connection, with a rate over the last second', () => {
	const now = { t: 2000 };
	const tbl = table(now);
	tbl.applyEvents([retransmit(1100, 2, 2), retransmit(1500, 3, 5), retransmit(1950, 1, 6)]);
	let snap = tbl.snapshot();
	assert.equal(snap.connections.length, 1);
	const row = snap.connections[0]!;
	assert.equal(row.retransmits, 6);
	assert.equal(row.retransmitsPerSecond, 6);
	assert.equal(row.key, connectionKey(row));
	assert.equal(row.ageMs, 1000);
	assert.equal(row.firstRetransmitAt, 1100);
	assert.equal(row.lastRetransmitAt, 1950);
	// At 2800 only the retransmit at 1950 is inside the last second (100 ms buckets).
	now.t = 2800;
	snap = tbl.snapshot();
	assert.equal(snap.connections[0]!.retransmitsPerSecond, 1);
	assert.equal(snap.connections[0]!.retransmits, 6);
	now.t = 4000;
	assert.equal(tbl.snapshot().connections[0]!.retransmitsPerSecond, 0);
});

test('a map read after the events neither double counts nor goes back', () => {
	const now = { t: 2000 };
	const tbl = table(now);
	tbl.applyEvents([retransmit(1100, 4, 4)]);
	// The kernel map holds the cumulative count: 4 seen already, 3 more since.
	tbl.applyConnections([conn({ retransmitSegments: 7, lastRetransmitNs: ms(1900), firstRetransmitNs: ms(1100) })]);
	// A late event carrying an older cumulative count changes nothing.
	tbl.applyEvents([retransmit(1200, 1, 5)]);
	const snap = tbl.snapshot();
	assert.equal(snap.connections[0]!.retransmits, 7);
	assert.equal(snap.connections[0]!.retransmitsPerSecond, 7);
	assert.equal(snap.processes[0]!.retransmits, 7);
	assert.equal(snap.totals.retransmits, 7);
});

test('per-process totals sum connections and survive pruning of closed ones', () => {
	const now = { t: 2000 };
	const tbl = new ConnectionTable({ now: () => now.t, monotonicToEpochMs: toEpoch, closedRetentionMs: 1000 });
	tbl.applyEvents([
		retransmit(1500, 2, 2, { cookie: 1n, sport: 1 }),
		retransmit(1600, 5, 5, { cookie: 2n, sport: 2 }),
		retransmit(1700, 1, 1, { cookie: 3n, sport: 3, pid: 200, comm: 'wget' }),
	]);
	tbl.applyConnections([conn({ cookie: 1n, sport: 1, retransmitSegments: 2, state: 'CLOSE', endNs: ms(1800), bytesAcked: 10 })]);
	let snap = tbl.snapshot();
	const curl = snap.processes.find((p) => p.pid === 100)!;
	assert.equal(curl.retransmits, 7);
	assert.equal(curl.connections, 2);
	assert.equal(curl.openConnections, 1);
	assert.equal(curl.bytesSent, 10);
	assert.equal(snap.processes[0]!.pid, 100, 'sorted by retransmits');
	assert.equal(snap.connections[0]!.retransmits, 5, 'sorted by retransmits');
	assert.equal(snap.totals.retransmits, 8);
	assert.equal(snap.totals.openConnections, 2);

	now.t = 3000; // the closed connection (closed at 1800) is past the 1 s retention
	tbl.prune();
	snap = tbl.snapshot();
	assert.equal(snap.connections.length, 2);
	assert.equal(snap.processes.find((p) => p.pid === 100)!.retransmits, 7, 'totals keep pruned connections');
});

test('a reused 4-tuple starts a new row; news about the old socket is ignored', () => {
	const now = { t: 5000 };
	const tbl = table(now);
	tbl.applyEvents([retransmit(1500, 9, 9, { cookie: 1n, startNs: ms(1000) })]);
	tbl.applyEvents([retransmit(4000, 1, 1, { cookie: 2n, startNs: ms(3000) })]);
	tbl.applyEvents([retransmit(1600, 1, 10, { cookie: 1n, startNs: ms(1000) })]);
	const snap = tbl.snapshot();
	assert.equal(snap.connections.length, 1);
	assert.equal(snap.connections[0]!.cookie, '2');
	assert.equal(snap.connections[0]!.retransmits, 1);
	assert.equal(snap.processes[0]!.retransmits, 10, "the process keeps both sockets' retransmits");
});

test('listeners and connections without ports yet are left out', () => {
	const tbl = table({ t: 2000 });
	tbl.applyConnections([
		conn({ cookie: 5n, state: 'LISTEN', daddr: '0.0.0.0', dport: 0, sport: 80 }),
		conn({ cookie: 6n, state: 'SYN_SENT', sport: 0, dport: 0 }),
		conn({ cookie: 7n }),
	]);
	const snap = tbl.snapshot();
	assert.deepEqual(
		snap.connections.map((c) => c.cookie),
		['7'],
	);
});

test('takeWindow returns what retransmitted since the previous window, once', () => {
	const now = { t: 2000 };
	const tbl = table(now);
	tbl.applyEvents([retransmit(1500, 3, 3, { cookie: 1n, sport: 1 }), retransmit(1600, 2, 2, { cookie: 2n, sport: 2 })]);
	tbl.applyConnections([conn({ cookie: 3n, sport: 3 })]); // no retransmits: not in the window
	const w1 = tbl.takeWindow();
	assert.deepEqual(w1.connections.map((c) => [c.cookie, c.retransmits]).sort(), [
		['1', 3],
		['2', 2],
	]);
	now.t = 3000;
	tbl.applyEvents([retransmit(2500, 4, 7, { cookie: 1n, sport: 1 })]);
	const w2 = tbl.takeWindow();
	assert.equal(w2.startMs, 2000, 'the second window starts where the first ended');
	assert.equal(w2.durationMs, 1000);
	assert.deepEqual(
		w2.connections.map((c) => [c.cookie, c.retransmits]),
		[['1', 4]],
	);
	assert.equal(tbl.takeWindow().connections.length, 0);
});

test('IPv6 keys bracket addresses', () => {
	assert.equal(connectionKey({ family: 6, saddr: 'fd00::1', sport: 1, daddr: 'fd00::2', dport: 2, pid: 3 }), '[fd00::1]:1>[fd00::2]:2/3');
});

test('the rate window counts the last second only and ignores stale additions', () => {
	const w = new RateWindow();
	w.add(1000, 1);
	w.add(1950, 2);
	assert.equal(w.sum(1999), 3);
	assert.equal(w.sum(2050), 2);
	w.add(3000, 5);
	w.add(1000, 7); // older than the window that now holds 3000: ignored
	assert.equal(w.sum(3000), 5);
	assert.equal(w.sum(4100), 0);
});
