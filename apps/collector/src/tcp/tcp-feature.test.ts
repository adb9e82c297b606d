import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DataMessage } from '@firesight/protocol';
import type { TcpConnection } from '@firesight/native';
import { until } from '@firesight/testing/tls-peers';
import { ConnectionTable } from './connection-table.ts';
import { tcpFeature } from './tcp-feature.ts';
import { TcpConnections } from './tcp-connections.ts';

/** curl's (pid 77) established connection to 10.0.0.2:80, open for a second, retransmitting at `ns`. */
function curlConnection(ns: bigint, fields: Partial<TcpConnection>): TcpConnection {
	return {
		cookie: 1n,
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
		retransmitSegments: 0,
		retransmitSkbs: 0,
		retransmitFailures: 0,
		synackRetransmits: 0,
		retransmits: 0,
		...fields,
	};
}

/** A tracer whose drains answer `drain`: the kernel is the only part not real here. */
function fakeTracer(drain: () => Promise<{ connections: TcpConnection[]; counters: never }>) {
	return { drainConnections: drain, counters: () => ({}) as never, close: () => {} };
}

function sink() {
	const sent: DataMessage[] = [];
	return { sent, context: { host: 'h', send: (m: DataMessage) => void sent.push(m), log: () => {} } };
}

test('kernel reads become connection snapshots, process retransmits and windows', async () => {
	const conn = curlConnection(process.hrtime.bigint(), { cookie: 5n, retransmitSegments: 6, retransmitSkbs: 3, retransmits: 6 });
	let reads = 0;
	const tracer = fakeTracer(async () => {
		reads++;
		const c = { ...conn, retransmits: reads === 1 ? 6 : 9, retransmitSegments: reads === 1 ? 6 : 9 };
		return { connections: [c], counters: { ringBufferFull: 2, connectionsMapFull: 0, synackPendingFull: 0, eventsDropped: 1 } as never };
	});
	const { sent, context } = sink();
	const tcp = tcpFeature({
		intervalMs: 60_000,
		create: (host) => new TcpConnections({ host, tracer, table: new ConnectionTable() }),
	}).start(context);
	const snapshotsSent = () => sent.flatMap((m) => (m.type === 'connections' ? [m.snapshot] : []));
	// The first read happens on start; the next would be a minute later.
	assert.ok(await until(() => snapshotsSent().length > 0, 60_000), 'a snapshot on start');
	const snapshots = snapshotsSent();
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
	const conns = Array.from({ length: 10 }, (_, i) =>
		curlConnection(ns, { cookie: BigInt(i + 1), sport: 40000 + i, retransmitSegments: i, retransmitSkbs: i, retransmits: i }),
	);
	const tracer = fakeTracer(async () => ({ connections: conns, counters: {} as never }));
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
