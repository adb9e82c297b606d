import { TcpTracer, type TcpCounters, type TcpTracerOptions } from '@firesight/native';
import { MAX_CONNECTIONS_PER_SNAPSHOT, type ConnectionsSnapshot, type RetransmitWindow } from '@firesight/protocol';
import { ConnectionTable, type ConnectionTableSnapshot } from './connection-table.ts';

export interface TcpConnectionsOptions {
	host: string;
	/** Connection rows per live snapshot at most (most retransmits first). */
	maxLiveConnections?: number;
	/** Kernel map and ring buffer sizes, and the bytes of event batches waiting for JavaScript; the tracer's defaults when absent. */
	kernel?: Pick<TcpTracerOptions, 'connectionEntries' | 'ringBufferBytes' | 'maxInFlightBytes'>;
	/** For tests: a table and tracer-like source instead of the kernel. */
	table?: ConnectionTable;
	tracer?: Pick<TcpTracer, 'drainConnections' | 'counters' | 'close'>;
}

/**
 * The host's TCP connections: the kernel tracer feeding a connection table. Live events keep the
 * table current between reads; each refresh drains the kernel map (the authoritative counts,
 * and the only way closed connections leave it).
 */
export class TcpConnections {
	readonly host: string;
	readonly #table: ConnectionTable;
	readonly #tracer: Pick<TcpTracer, 'drainConnections' | 'counters' | 'close'>;
	readonly #maxLive: number;
	#chain: Promise<unknown> = Promise.resolve();
	#last: ConnectionTableSnapshot | undefined;
	#counters: TcpCounters | undefined;
	#closed = false;

	/** Loads the BPF program; throws NativeError when it cannot. */
	constructor(options: TcpConnectionsOptions) {
		this.host = options.host;
		this.#maxLive = options.maxLiveConnections ?? MAX_CONNECTIONS_PER_SNAPSHOT;
		const table = options.table ?? new ConnectionTable();
		this.#table = table;
		this.#tracer =
			options.tracer ??
			new TcpTracer({
				...options.kernel,
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

	/** The table as of the last refresh, at most maxLiveConnections rows. */
	snapshot(): ConnectionsSnapshot | undefined {
		const s = this.#last;
		if (!s) return undefined;
		return {
			...s,
			host: this.host,
			connections: s.connections.slice(0, this.#maxLive),
			omitted: Math.max(0, s.connections.length - this.#maxLive),
		};
	}

	/** Retransmits per pid since the collector started, as of the last refresh. */
	retransmitsByPid(): Map<number, number> {
		return new Map((this.#last?.processes ?? []).map((p) => [p.pid, p.retransmits]));
	}

	/** Refreshes, then returns the per-connection retransmits since the previous window. */
	async takeWindow(): Promise<RetransmitWindow> {
		await this.refresh().catch(() => undefined);
		return { host: this.host, ...this.#table.takeWindow() };
	}

	/** Loss counters, under the tracer's names. */
	drops(): Record<string, number> {
		const k = this.#counters;
		if (!k) return {};
		return {
			ringBufferFull: k.ringBufferFull,
			connectionsMapFull: k.connectionsMapFull,
			synackPendingFull: k.synackPendingFull,
			eventsDropped: k.eventsDropped,
		};
	}

	/** Waits for a refresh under way, then detaches the BPF programs. */
	async close(): Promise<void> {
		await this.#chain;
		this.#closed = true;
		this.#tracer.close();
	}
}
