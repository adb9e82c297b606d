import { TcpTracer, type TcpCounters } from '@firesight/native';
import {
	MAX_CONNECTIONS_PER_SNAPSHOT,
	type ConnectionRow,
	type ConnectionsSnapshot,
	type RetransmitWindow,
} from '@firesight/protocol';
import { ConnectionTable, type ConnectionTableSnapshot, type RetransmitWindow as TableWindow } from './connection-table.ts';

export interface TcpCollectorOptions {
	host: string;
	/** Connection rows per live snapshot at most (most retransmits first). */
	maxLiveConnections?: number;
	/** For tests: a table and tracer-like source instead of the kernel. */
	table?: ConnectionTable;
	tracer?: Pick<TcpTracer, 'drainConnections' | 'counters' | 'close'>;
}

const round = (ms: number) => Math.max(0, Math.round(ms));
const roundOrNull = (ms: number | null) => (ms === null ? null : round(ms));

/** A table row in wire form: epoch times as whole milliseconds. */
export function toWireRow(r: ConnectionTableSnapshot['connections'][number]): ConnectionRow {
	return {
		...r,
		openedAt: round(r.openedAt),
		closedAt: roundOrNull(r.closedAt),
		firstRetransmitAt: roundOrNull(r.firstRetransmitAt),
		lastRetransmitAt: roundOrNull(r.lastRetransmitAt),
	};
}

export function toWireWindow(host: string, w: TableWindow): RetransmitWindow {
	const startMs = round(w.start);
	return {
		host,
		startMs,
		durationMs: Math.max(1, round(w.end) - startMs),
		connections: w.connections.map(({ key: _key, ...c }) => ({
			...c,
			firstRetransmitAt: roundOrNull(c.firstRetransmitAt),
			lastRetransmitAt: roundOrNull(c.lastRetransmitAt),
		})),
	};
}

/**
 * The collector's TCP half: the kernel tracer feeding a connection table. Live events keep the
 * table current between reads; each refresh drains the kernel map (the authoritative counts,
 * and the only way closed connections leave it).
 */
export class TcpCollector {
	readonly host: string;
	readonly #table: ConnectionTable;
	readonly #tracer: Pick<TcpTracer, 'drainConnections' | 'counters' | 'close'>;
	readonly #maxLive: number;
	#chain: Promise<unknown> = Promise.resolve();
	#last: ConnectionTableSnapshot | undefined;
	#counters: TcpCounters | undefined;
	#closed = false;

	/** Loads the BPF program; throws NativeError when it cannot. */
	constructor(options: TcpCollectorOptions) {
		this.host = options.host;
		this.#maxLive = options.maxLiveConnections ?? MAX_CONNECTIONS_PER_SNAPSHOT;
		const table = options.table ?? new ConnectionTable();
		this.#table = table;
		this.#tracer =
			options.tracer ??
			new TcpTracer({
				onEvents: (events) => {
					if (!this.#closed) table.applyEvents(events);
				},
			});
	}

	/** Drains the kernel map into the table; calls run one after another. */
	refresh(): Promise<void> {
		const next = this.#chain.then(async () => {
			if (this.#closed) return;
			const { connections, counters } = await this.#tracer.drainConnections();
			this.#table.applyConnections(connections);
			this.#table.prune();
			this.#counters = counters;
			this.#last = this.#table.snapshot();
		});
		this.#chain = next.catch(() => undefined);
		return next;
	}

	/** The table as of the last refresh, in wire form. */
	snapshot(): ConnectionsSnapshot | undefined {
		const s = this.#last;
		if (!s) return undefined;
		return {
			host: this.host,
			ts: round(s.at),
			connections: s.connections.slice(0, this.#maxLive).map(toWireRow),
			omitted: Math.max(0, s.connections.length - this.#maxLive),
			processes: s.processes,
			totals: s.totals,
		};
	}

	/** Retransmits per pid since the collector started, as of the last refresh. */
	retransmitsByPid(): Map<number, number> {
		return new Map((this.#last?.processes ?? []).map((p) => [p.pid, p.retransmits]));
	}

	/** Refreshes, then returns the per-connection retransmits since the previous window. */
	async takeWindow(): Promise<RetransmitWindow> {
		await this.refresh().catch(() => undefined);
		return toWireWindow(this.host, this.#table.takeWindow());
	}

	/** Loss counters in the shape LiveStats.drops carries them. */
	drops(): Record<string, number> {
		const k = this.#counters;
		if (!k) return {};
		return {
			tcp_ring_buffer_full: k.ringBufferFull,
			tcp_connections_map_full: k.connectionsMapFull,
			tcp_synack_pending_full: k.synackPendingFull,
			tcp_events_dropped: k.eventsDropped,
		};
	}

	/** Waits for a refresh under way, then detaches the BPF programs. */
	async close(): Promise<void> {
		await this.#chain;
		this.#closed = true;
		this.#tracer.close();
	}
}
