import { loadAddon, type RawTcpTracer } from './addon.ts';
import { checkBpfPrerequisites, toNativeError } from './native-error.ts';
import { ringBufferRecords } from './ring-buffer-records.ts';
import { decodeConnections, decodeEvent, decodeTcpCounters, type TcpConnection, type TcpCounter, type TcpEvent } from './tcp-records.ts';

export interface TcpTracerOptions {
	/** Called on the main thread with the events of one ring-buffer wake-up, in kernel order. */
	onEvents?: (events: TcpEvent[]) => void;
	/** Send one event per retransmit to onEvents (open and close events are always sent). */
	emitRetransmits?: boolean;
	/** Connections the kernel map holds at once; past it connections are counted, not kept. */
	connectionEntries?: number;
	/** Ring-buffer size in bytes: a power of two, at least a page. */
	ringBufferBytes?: number;
	/** Event bytes waiting for JavaScript at most; a batch past it is dropped and counted. */
	maxInFlightBytes?: number;
}

export type TcpCounters = Record<TcpCounter, number> & {
	/** Events dropped between the ring buffer and JavaScript (JavaScript fell behind). */
	eventsDropped: number;
};

export interface TcpConnectionsRead {
	connections: TcpConnection[];
	/** Totals since load. */
	counters: TcpCounters;
}

/**
 * TCP retransmits and connection life cycle for every TCP socket on the host, with the owning
 * process. Counts are aggregated per connection in a kernel map (read with readConnections or
 * drainConnections); events stream to onEvents for a live view.
 */
export class TcpTracer {
	/**
	 * Whether accept() is traced (through the syscall tracepoints, which need tracefs mounted at
	 * /sys/kernel/tracing or /sys/kernel/debug/tracing). When false, accepted connections have no
	 * owner (pid 0); connect() and listen() owners and all counts are unaffected.
	 */
	readonly acceptOwners: boolean;
	#raw: RawTcpTracer | undefined;
	#reading: Promise<TcpConnectionsRead> | undefined;
	#decodeErrors = 0;

	constructor(options: TcpTracerOptions = {}) {
		const connEntries = options.connectionEntries ?? 65_536;
		const ringBytes = options.ringBufferBytes ?? 8 << 20;
		const maxInFlightBytes = options.maxInFlightBytes ?? 64 << 20;
		if (!Number.isInteger(connEntries) || connEntries < 1) {
			throw new RangeError(`connectionEntries must be a positive whole number, got ${connEntries}`);
		}
		if (!Number.isInteger(ringBytes) || ringBytes < 4096 || (ringBytes & (ringBytes - 1)) !== 0) {
			throw new RangeError(`ringBufferBytes must be a power of two of at least 4096, got ${ringBytes}`);
		}
		const onEvents = options.onEvents;
		checkBpfPrerequisites();
		try {
			this.#raw = new (loadAddon().TcpTracer)({
				connEntries,
				ringBytes,
				emitRetransmits: options.emitRetransmits ?? true,
				maxInFlightBytes,
				onEvents: (batch) => {
					if (!onEvents) return;
					const events: TcpEvent[] = [];
					try {
						for (const record of ringBufferRecords(batch)) {
							const event = decodeEvent(record);
							if (event) events.push(event);
						}
					} catch {
						this.#decodeErrors++;
					}
					if (events.length) onEvents(events);
				},
			});
		} catch (err) {
			throw toNativeError(err);
		}
		this.acceptOwners = this.#raw.acceptOwners();
	}

	/** Every connection in the kernel map, closed ones included, without changing it. */
	readConnections(): Promise<TcpConnectionsRead> {
		return this.#read(false);
	}

	/**
	 * Every connection in the kernel map; closed ones are removed from it as they are read, so
	 * each closed connection is returned by exactly one drain. Open ones stay.
	 */
	drainConnections(): Promise<TcpConnectionsRead> {
		return this.#read(true);
	}

	/** Totals since load, read now. */
	counters(): TcpCounters {
		const raw = this.#raw;
		if (!raw) throw new Error('tcp tracer is closed');
		return { ...decodeTcpCounters(raw.counters()), eventsDropped: raw.eventDrops() + this.#decodeErrors };
	}

	/** Stops the event stream, detaches and frees the maps. Safe to call twice. */
	close(): void {
		this.#raw?.close();
		this.#raw = undefined;
	}

	#read(deleteClosed: boolean): Promise<TcpConnectionsRead> {
		const raw = this.#raw;
		if (!raw) return Promise.reject(new Error('tcp tracer is closed'));
		// One read at a time in the addon: a second caller waits for the first, then reads.
		const previous = this.#reading ?? Promise.resolve(undefined);
		const next = previous
			.catch(() => undefined)
			.then(() => raw.readConnections(deleteClosed))
			.then(
				(batch) => ({
					connections: decodeConnections(batch.records),
					counters: {
						...decodeTcpCounters(batch.counters),
						eventsDropped: raw.eventDrops() + this.#decodeErrors,
					},
				}),
				(err: unknown) => {
					throw toNativeError(err);
				},
			);
		this.#reading = next;
		void next
			.finally(() => {
				if (this.#reading === next) this.#reading = undefined;
			})
			.catch(() => undefined);
		return next;
	}
}

export {
	TCP_COUNTERS,
	TCP_STATES,
	formatIPv4,
	formatIPv6,
	type TcpConnection,
	type TcpCounter,
	type TcpEvent,
	type TcpEventKind,
	type TcpState,
	type TcpTuple,
} from './tcp-records.ts';
