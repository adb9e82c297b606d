import { loadAddon, type RawTlsTracer } from './addon.ts';
import { decodeHttp1Stats, HeaderNames, type Http1ConnEvent, type Http1Stat } from './http1-records.ts';
import { decodeTlsBatch, forEachTlsEvent, http1Config, type Http1TrackerOptions, type TlsStreamEvent } from './http1-tracker.ts';
import { checkBpfPrerequisites, toNativeError } from './native-error.ts';
import { decodeTlsCounters, type TlsCounter } from './tls-records.ts';

/** Records per onEvents call. */
const DELIVERY_CHUNK = 64;

export interface TlsTracerOptions {
	/**
	 * Called on the main thread with the records of one ring-buffer wake-up, in kernel order, a
	 * few dozen at a time (several calls for a busy wake-up). The
	 * addon's HTTP/1 tracker has replaced the data and close records with exchange, connection and
	 * request-start records (http1-records.ts), exchanges flat (Http1ExchangeRecord); conn, exec
	 * and exit records come as they are.
	 */
	onEvents: (events: TlsStreamEvent[]) => void;
	/** Limits of the HTTP/1 reassembly. */
	http1?: Http1TrackerOptions;
	/** Processes whose bodies are kept from the start (see setCaptureBodies). */
	captureBodies?: readonly number[];
	/** Only these processes (tgids); all when empty. The collector's own process is never traced. */
	pids?: readonly number[];
	/** Longest a record waits in the ring buffer when traffic is light (records are batched). */
	flushIntervalMs?: number;
	/**
	 * How socket syscalls are seen: 'auto' uses the socket layer's send and receive tracepoints
	 * (6.3+), which no other I/O passes, and the TCP state one for closes; it falls back to
	 * 'tracepoints', one tracepoint per socket syscall (needs tracefs), and then to 'raw', the
	 * sys_enter hook that every syscall on the host passes through.
	 */
	syscallHook?: 'auto' | 'tracepoints' | 'raw';
	/** Ring buffer size in bytes: a power of two, at least a page. */
	ringBytes?: number;
	/** Bytes of batches waiting for JavaScript before further batches are dropped (and counted). */
	maxInFlightBytes?: number;
	/**
	 * Slots of SSL calls in flight, indexed by thread id (a power of two): two threads of one slot
	 * inside SSL calls at once lose a call, counted as activeFull.
	 */
	activeSlots?: number;
	/**
	 * Slots of each thread's last socket read and pending SSL_write socket (what ties Node's SSL
	 * objects to sockets), indexed by thread id (a power of two): a thread taking another's slot
	 * loses that thread's note, counted as threadsFull.
	 */
	threadSlots?: number;
	/** SSL objects tied to sockets, and socket generations, remembered at once (LRU maps). */
	connectionEntries?: number;
	/**
	 * Threads with a request context at once; past it requestContextFull. Only when this tracer
	 * makes the map the profiler shares (none holds it yet).
	 */
	requestContextEntries?: number;
	/** Processes known to do TLS, whose socket syscalls are looked at (an LRU map). */
	processEntries?: number;
	/** Records that could not be decoded (a layout mismatch): counted, never thrown into the poll loop. */
	onDecodeError?: (err: Error) => void;
	/**
	 * What the exchanges' headers of a name show in place of their values (a redaction), asked
	 * once per header name; undefined keeps the value.
	 */
	headerValue?: (name: string) => string | undefined;
	/**
	 * Keep each thread's current HTTP request, which the profiler stamps its samples with, and
	 * give request-starting reads their id (bpf/request-context.h). On unless turned off.
	 */
	requestContext?: boolean;
}

/**
 * The tls BPF tool: uprobes on OpenSSL's SSL_read/SSL_write(_ex) in the files attached with
 * attachFile(), plus the syscall, exec and exit hooks that tie SSL objects to sockets and report
 * new processes. Which files to attach is the caller's business (see the collector's discovery).
 */
export class TlsTracer {
	#raw: RawTlsTracer | undefined;
	#decodeErrors = 0;
	#deliver: (batch: ArrayBuffer) => void;
	#finalHttp1: Record<Http1Stat, number> | undefined;

	constructor(options: TlsTracerOptions) {
		const ringBytes = options.ringBytes ?? 16 << 20;
		if (!Number.isInteger(ringBytes) || ringBytes < 4096 || (ringBytes & (ringBytes - 1)) !== 0) {
			throw new RangeError(`ringBytes must be a power of two of at least 4096, got ${ringBytes}`);
		}
		const activeSlots = options.activeSlots ?? 16_384;
		const threadSlots = options.threadSlots ?? 16_384;
		for (const [name, v] of [
			['activeSlots', activeSlots],
			['threadSlots', threadSlots],
		] as const) {
			if (!Number.isInteger(v) || v < 1 || v > 1 << 20 || (v & (v - 1)) !== 0)
				throw new RangeError(`${name} must be a power of two from 1 to 2^20, got ${v}`);
		}
		const connectionEntries = options.connectionEntries ?? 65_536;
		const requestContextEntries = options.requestContextEntries ?? 65_536;
		const processEntries = options.processEntries ?? 8192;
		for (const [name, v] of [
			['connectionEntries', connectionEntries],
			['requestContextEntries', requestContextEntries],
			['processEntries', processEntries],
		] as const) {
			if (!Number.isInteger(v) || v < 1 || v > 1 << 24) throw new RangeError(`${name} must be a whole number from 1 to 2^24, got ${v}`);
		}
		checkBpfPrerequisites();
		const http1 = http1Config(options.http1);
		const onDecodeError = (err: Error) => {
			this.#decodeErrors++;
			options.onDecodeError?.(err);
		};
		const flat = { names: new HeaderNames(options.headerValue ?? (() => undefined)) };
		this.#deliver = (batch: ArrayBuffer) => {
			// A wake-up's records go out a few at a time: decoded all at once, a whole batch of
			// exchanges would be alive together, and the garbage collector would copy them.
			let chunk: TlsStreamEvent[] = [];
			forEachTlsEvent(
				batch,
				onDecodeError,
				(ev) => {
					chunk.push(ev);
					if (chunk.length < DELIVERY_CHUNK) return;
					options.onEvents(chunk);
					chunk = [];
				},
				flat,
			);
			if (chunk.length > 0) options.onEvents(chunk);
		};
		const onBatch = (batch: ArrayBuffer) => {
			// Batches already queued for the main thread when close() ran: nobody expects them.
			if (this.#raw) this.#deliver(batch);
		};
		try {
			this.#raw = new (loadAddon().TlsTracer)({
				selfTgid: process.pid,
				pids: [...(options.pids ?? [])],
				ringBytes,
				maxInFlightBytes: options.maxInFlightBytes ?? 64 << 20,
				// The kernel side wakes the reader only when the buffer fills up; the reader
				// drains it after every poll timeout, which bounds the wait.
				pollTimeoutMs: Math.max(1, Math.round(options.flushIntervalMs ?? 100)),
				syscallHook: options.syscallHook ?? 'auto',
				requestContext: options.requestContext ?? true,
				onBatch,
				http1,
				bodyPids: [...(options.captureBodies ?? [])],
				activeSlots,
				threadSlots,
				connectionEntries,
				requestContextEntries,
				processEntries,
			});
		} catch (err) {
			throw toNativeError(err);
		}
	}

	/** Which syscall hook is in use: the socket layer's, per-syscall tracepoints, or raw sys_enter. */
	get syscallHook(): 'sockets' | 'tracepoints' | 'raw' {
		return this.#live().syscallHook();
	}

	/**
	 * Attaches entry and return probes on SSL_read, SSL_write, SSL_read_ex and SSL_write_ex of the
	 * file at `path`, for every process. `key` names the file for detachFile (e.g. dev:inode, so a
	 * file is attached once whatever path it is reached by). Returns the functions found.
	 */
	attachFile(key: string, path: string): string[] {
		try {
			return this.#live().attachFile(key, path);
		} catch (err) {
			throw toNativeError(err);
		}
	}

	detachFile(key: string): boolean {
		return this.#raw?.detachFile(key) ?? false;
	}

	/** Marks a process as a TLS user before its first SSL call (see bpf/tls.bpf.c). */
	addProcess(tgid: number): void {
		try {
			this.#live().addProcess(tgid);
		} catch (err) {
			throw toNativeError(err);
		}
	}

	/** Totals since load: kernel counters summed over CPUs, the stream's drops, decode errors. */
	counters(): Record<TlsCounter | 'decodeErrors', number> {
		return { ...decodeTlsCounters(this.#live().counters()), decodeErrors: this.#decodeErrors };
	}

	/** Starts or stops keeping bodies for a process (applies to its new connections). */
	setCaptureBodies(tgid: number, on: boolean): void {
		this.#live().setCaptureBodies(tgid, on);
	}

	/** The HTTP/1 tracker's open connections. */
	connections(): Http1ConnEvent[] {
		if (!this.#raw) return [];
		return decodeTlsBatch(this.#raw.connections(), () => this.#decodeErrors++) as Http1ConnEvent[];
	}

	/** The HTTP/1 tracker's totals: connections, exchanges and what reassembly lost (final ones after close). */
	http1Stats(): Record<Http1Stat, number> {
		if (!this.#raw && this.#finalHttp1) return { ...this.#finalHttp1 };
		return decodeHttp1Stats(this.#live().http1Stats());
	}

	get closed(): boolean {
		return this.#raw === undefined;
	}

	/**
	 * Detaches everything and stops the stream. The open connections end: what that completes
	 * (a response that runs until close) and their summaries reach onEvents before this returns.
	 * Safe to call twice.
	 */
	close(): void {
		const raw = this.#raw;
		if (!raw) return;
		this.#raw = undefined;
		const last = raw.close();
		this.#finalHttp1 = decodeHttp1Stats(raw.http1Stats());
		this.#deliver(last);
	}

	#live(): RawTlsTracer {
		if (!this.#raw) throw new Error('tls tracer is closed');
		return this.#raw;
	}
}
