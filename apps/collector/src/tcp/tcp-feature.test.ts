import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DataMessage } from '@firesight/protocol';
import type { TcpConnection } from '@firesight/native';
import { ConnectionTable } from './connection-table.ts';
import { tcpFeature } from './tcp-feature.ts';
import { TcpConnections } from './tcp-connections.ts';

function sink() {
	const sent: DataMessage[] = [];
	return { sent, context: { host: 'h', send: (m: DataMessage) => void sent.push(m), log: () => {} } };
}

test('kernel reads become connection snapshots, process retransmits and windows', async () => {
	const ns = process.hrtime.bigint();
	const conn: TcpConnection = {
		cookie: 5n,
		family: 4,
		saddr: '10.0.0.1',
		sport: 40000,
		daddr: '10.0.0.2',
		dport: 80,
		pid: 77,
		comm: 'curl',
		state: 'ESTABLISHED',
		direction: 'active',
		ownerKnown: true,
		midway: false,
		startNs: ns - 1_000_000_000n,
		endNs: 0n,
		firstRetransmitNs: ns,
		lastRetransmitNs: ns,
		bytesAcked: 1000,
		bytesReceived: 10,
		retransmitSegments: 6,
		retransmitSkbs: 3,
		retransmitFailures: 0,
		synackRetransmits: 0,
		retransmits: 6,
	};
	let reads = 0;
	const tracer = {
		drainConnections: async () => {
			reads++;
			const c = { ...conn, retransmits: reads === 1 ? 6 : 9, retransmitSegments: reads === 1 ? 6 : 9 };
			return { connections: [c], counters: { ringBufferFull: 2, connectionsMapFull: 0, synackPendingFull: 0, eventsDropped: 1 } as never };
		},
		counters: () => ({}) as never,
		close: () => {},
	};
	const { sent, context } = sink();
	const tcp = tcpFeature({
		intervalMs: 60_000,
		create: (host) => new TcpConnections({ host, tracer, table: new ConnectionTable() }),
	}).start(context);
	await new Promise((r) => setTimeout(r, 20));
	const snapshots = sent.flatMap((m) => (m.type === 'connections' ? [m.snapshot] : []));
	assert.equal(snapshots.length, 1);
	const snap = snapshots[0]!;
	assert.equal(snap.host, 'h');
	assert.equal(snap.connections[0]!.retransmits, 6);
	assert.ok(Number.isInteger(snap.connections[0]!.openedAt));
	assert.deepEqual(tcp.processRows!([{ pid: 77, comm: 'curl', cmdline: '', cpuPercent: 0, samplesPerSec: 0 }])[0]!.retransmits, 6);
	assert.equal(tcp.drops().ringBufferFull, 2);
	void tcp.window!();
	await tcp.stop();
	// The window drained again first: it holds all 9, and stop() sent nothing more (no new retransmits).
	const windows = sent.flatMap((m) => (m.type === 'retransmitWindow' ? [m.window] : []));
	assert.deepEqual(
		windows.map((w) => w.connections.map((c) => [c.pid, c.dport, c.retransmits])),
		[[[77, 80, 9]]],
	);
});

test('a live snapshot past maxLiveConnections keeps the most retransmitting rows and counts the rest as omitted', async () => {
	const ns = process.hrtime.bigint();
	const conns: TcpConnection[] = Array.from({ length: 10 }, (_, i) => ({
		cookie: BigInt(i + 1),
		family: 4,
		saddr: '10.0.0.1',
		sport: 40000 + i,
		daddr: '10.0.0.2',
		dport: 80,
		pid: 77,
		comm: 'curl',
		state: 'ESTABLISHED',
		direction: 'active',
		ownerKnown: true,
		midway: false,
		startNs: ns - 1_000_000_000n,
		endNs: 0n,
		firstRetransmitNs: ns,
		lastRetransmitNs: ns,
		bytesAcked: 1000,
		bytesReceived: 10,
		retransmitSegments: i,
		retransmitSkbs: i,
		retransmitFailures: 0,
		synackRetransmits: 0,
		retransmits: i,
	}));
	const tracer = {
		drainConnections: async () => ({ connections: conns, counters: {} as never }),
		counters: () => ({}) as never,
		close: () => {},
	};
	const tcp = new TcpConnections({ host: 'h', tracer, table: new ConnectionTable(), maxLiveConnections: 3 });
	await tcp.refresh();
	const snap = tcp.snapshot()!;
	assert.deepEqual(
		snap.connections.map((c) => c.retransmits),
		[9, 8, 7],
	);
	assert.equal(snap.omitted, 7);
	await tcp.close();
});
