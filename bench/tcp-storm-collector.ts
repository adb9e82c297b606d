/**
 * The collector's TCP path alone, as its own process so that its CPU time can be measured:
 * the TcpTracer streaming every retransmit event into a ConnectionTable, with a kernel-map drain
 * and a snapshot each second (what the collector does for the hub). Prints "ready", then on
 * SIGTERM one JSON line of totals and exits. argv: the benchmark's sender address, whose
 * connections' retransmits are also summed apart (from events and from the kernel map).
 */
import { TcpTracer, type TcpConnection, type TcpEvent } from '@firesight/native';
import { ConnectionTable } from '@firesight/collector/connection-table';

const senderAddr = process.argv[2] ?? '';
const table = new ConnectionTable();
let events = 0;
let retransmitSegments = 0;
/** cookie -> retransmits, for the sender's connections, from the kernel map. */
const fromMap = new Map<bigint, number>();
const tracer = new TcpTracer({
	onEvents: (batch: TcpEvent[]) => {
		events += batch.length;
		for (const e of batch) {
			if (e.kind === 'retransmit' && e.connection.saddr === senderAddr) retransmitSegments += e.segments;
		}
		table.applyEvents(batch);
	},
});
let maxRowsSeen = 0;
const tick = setInterval(async () => {
	const { connections } = await tracer.drainConnections();
	record(connections);
	table.applyConnections(connections);
	table.prune();
	maxRowsSeen = Math.max(maxRowsSeen, table.snapshot().connections.length);
}, 1000);
function record(connections: TcpConnection[]): void {
	for (const c of connections) if (c.saddr === senderAddr) fromMap.set(c.cookie, Math.max(fromMap.get(c.cookie) ?? 0, c.retransmits));
}
console.log('ready');

process.once('SIGTERM', async () => {
	clearInterval(tick);
	// Let the last ring-buffer batches arrive.
	await new Promise((r) => setTimeout(r, 300));
	const { connections, counters } = await tracer.drainConnections();
	record(connections);
	table.applyConnections(connections);
	tracer.close();
	const mapSegments = [...fromMap.values()].reduce((a, b) => a + b, 0);
	console.log(JSON.stringify({ events, retransmitSegments, mapSegments, counters, maxRowsSeen, snapshot: table.snapshot().totals }));
	process.exit(0);
});
