import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConnectionsSnapshot, RetransmitWindow } from '@firesight/protocol';
import type { TcpConnection } from '@firesight/native';
import { ConnectionTable } from './connection-table.ts';
import { startTcpCollector } from './start-tcp-collector.ts';
import { TcpCollector } from './tcp-collector.ts';

function stream() {
	const sent = { connections: [] as ConnectionsSnapshot[], windows: [] as RetransmitWindow[] };
	return { sent, stream: { sendConnections: (s: ConnectionsSnapshot) => sent.connections.push(s), sendRetransmitWindow: (w: RetransmitWindow) => sent.windows.push(w) } };
}

test('a tracer that cannot load is logged once and leaves the rest running', async () => {
	const lines: string[] = [];
	const { stream: s, sent } = stream();
	const tcp = startTcpCollector({ host: 'h', stream: s, log: (l) => lines.push(l), create: () => { throw new Error('bpf says no'); } });
	assert.equal(tcp.running, false);
	assert.deepEqual(lines, ['TCP retransmits are off: bpf says no']);
	const rows = [{ pid: 1, comm: 'a', cmdline: '', cpuPercent: 0, samplesPerSec: 0 }];
	assert.deepEqual(tcp.withRetransmits(rows), rows);
	tcp.sendWindow();
	await tcp.stop();
	assert.equal(sent.connections.length + sent.windows.length, 0);
});

test('kernel reads become connection snapshots, process retransmits and windows', async () => {
	const ns = process.hrtime.bigint();
	const conn: TcpConnection = {
		cookie: 5n, family: 4, saddr: '10.0.0.1', sport: 40000, daddr: '10.0.0.2', dport: 80, pid: 77, comm: 'curl',
		state: 'ESTABLISHED', direction: 'active', ownerKnown: true, midway: false, startNs: ns - 1_000_000_000n, endNs: 0n,
		firstRetransmitNs: ns, lastRetransmitNs: ns, bytesAcked: 1000, bytesReceived: 10, retransmitSegments: 6,
		retransmitSkbs: 3, retransmitFailures: 0, synackRetransmits: 0, retransmits: 6,
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
	const { stream: s, sent } = stream();
	const tcp = startTcpCollector({ host: 'h', stream: s, log: () => {}, intervalMs: 60_000, create: () => new TcpCollector({ host: 'h', tracer, table: new ConnectionTable() }) });
	await new Promise((r) => setTimeout(r, 20));
	assert.equal(sent.connections.length, 1);
	const snap = sent.connections[0]!;
	assert.equal(snap.host, 'h');
	assert.equal(snap.connections[0]!.retransmits, 6);
	assert.ok(Number.isInteger(snap.connections[0]!.openedAt));
	assert.deepEqual(tcp.withRetransmits([{ pid: 77, comm: 'curl', cmdline: '', cpuPercent: 0, samplesPerSec: 0 }])[0]!.retransmits, 6);
	assert.equal(tcp.drops().tcp_ring_buffer_full, 2);
	tcp.sendWindow();
	await tcp.stop();
	// The window drained again first: it holds all 9, and stop() sent nothing more (no new retransmits).
	assert.deepEqual(sent.windows.map((w) => w.connections.map((c) => [c.pid, c.dport, c.retransmits])), [[[77, 80, 9]]]);
});
