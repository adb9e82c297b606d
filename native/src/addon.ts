import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/*
 * The raw addon: one thin class per BPF tool over libbpf, registered by addon.cc. Semantics and
 * validation live in the TypeScript classes around them; these types are the whole surface the
 * C++ defines, so that nothing reaches it through a cast.
 */

/** The addon's Profiler (profiler.cc). */
export interface RawProfiler {
	drain(): Promise<{ counts: ArrayBuffer; stacks: ArrayBuffer; counters: ArrayBuffer; unmapped: ArrayBuffer; deferred: ArrayBuffer }>;
	/** False when the rows or rules do not fit. */
	loadUnwindTable(fileId: number, table: Uint8Array): boolean;
	unloadUnwindTable(fileId: number): void;
	/** `mappings`: struct unwind_mapping records, sorted. False when the processes map is full. */
	setProcessMappings(pid: number, mappings: Uint8Array, truncated: boolean): boolean;
	removeProcess(pid: number): void;
	/** u32 tgids taken out of the sampling buffer's unmapped set. */
	takeUnmapped(): ArrayBuffer;
	/** Deferred records taken out of the kernel's ring now; empty while a drain runs. */
	takeDeferred(): ArrayBuffer;
	/**
	 * The walked user ips (u64, leaf first) of a deferred record, and whether its process exec'd
	 * since the sample; null while its tables are not in (never on the last try).
	 */
	replayDeferred(record: Uint8Array, lastTry: boolean, exited: boolean): { user: ArrayBuffer; execed: boolean } | null;
	close(): void;
}

export interface RawProfilerConfig {
	frequency: number;
	includeIdle: boolean;
	pids: number[];
	stackEntries: number;
	countEntries: number;
	unwindMode: 'fp' | 'dwarf' | 'auto';
	unwindRows: number;
	unwindProcesses: number;
	deferPending: boolean;
}

/** The addon's TcpTracer (tcp-tracer.cc). */
export interface RawTcpTracer {
	readConnections(deleteClosed: boolean): Promise<{ records: ArrayBuffer; counters: ArrayBuffer }>;
	counters(): ArrayBuffer;
	eventDrops(): number;
	acceptOwners(): boolean;
	close(): void;
}

export interface RawTcpTracerConfig {
	connEntries: number;
	ringBytes: number;
	emitRetransmits: boolean;
	maxInFlightBytes: number;
	onEvents: (batch: ArrayBuffer) => void;
}

/** The addon's TlsTracer (tls-tracer.cc). */
export interface RawTlsTracer {
	attachFile(key: string, path: string): string[];
	detachFile(key: string): boolean;
	addProcess(tgid: number): void;
	counters(): ArrayBuffer;
	syscallHook(): 'sockets' | 'tracepoints' | 'raw';
	setCaptureBodies(tgid: number, on: boolean): void;
	/** HTTP1_EV_CONN_OPEN records (http1-records.h). */
	connections(): ArrayBuffer;
	/** HTTP1_STAT_MAX u64 totals. */
	http1Stats(): ArrayBuffer;
	/** Records from ending the open connections (the first call). */
	close(): ArrayBuffer;
}

/** Limits of the addon's HTTP/1 tracker (http1-tracker.h). */
export interface RawHttp1Config {
	maxBodyBytes: number;
	maxConnections: number;
	idleTimeoutMs: number;
}

/** The addon's Http1Tracker fed from JavaScript (http1-tracker-addon.cc). */
export interface RawHttp1Tracker {
	/** Framed tls records in; the tracker's records and those it passes on out. */
	handle(batch: ArrayBuffer): ArrayBuffer;
	evictIdle(beforeNs: bigint): ArrayBuffer;
	endAll(ns: bigint): ArrayBuffer;
	connections(): ArrayBuffer;
	setCaptureBodies(tgid: number, on: boolean): void;
	stats(): ArrayBuffer;
}

export interface RawTlsTracerConfig {
	selfTgid: number;
	pids: number[];
	ringBytes: number;
	maxInFlightBytes: number;
	pollTimeoutMs: number;
	/**
	 * 'auto' tries the socket layer's tracepoints, then the per-syscall tracepoints, then the
	 * sys_enter hook; 'tracepoints' starts at the second, 'raw' forces the last.
	 */
	syscallHook: 'auto' | 'tracepoints' | 'raw';
	/** Keep the per-thread request context that profile samples are stamped with. */
	requestContext: boolean;
	onBatch: (batch: ArrayBuffer) => void;
	http1: RawHttp1Config;
	/** Processes whose bodies are kept from the start. */
	bodyPids: number[];
	/** Slots of SSL calls in flight (a power of two). */
	activeSlots: number;
	/** Slots of threads' socket notes (a power of two). */
	threadSlots: number;
	/** SSL objects and socket generations remembered (each an LRU map of this size). */
	connectionEntries: number;
	/** Threads with a request context, when this tracer makes the shared map. */
	requestContextEntries: number;
	/** Processes known to do TLS (an LRU map of this size). */
	processEntries: number;
}

/** What addon.cc exports. */
export interface RawAddon {
	Profiler: new (config: RawProfilerConfig) => RawProfiler;
	TcpTracer: new (config: RawTcpTracerConfig) => RawTcpTracer;
	TlsTracer: new (config: RawTlsTracerConfig) => RawTlsTracer;
	Http1Tracker: new (config: Partial<RawHttp1Config>) => RawHttp1Tracker;
}

const addonPath = fileURLToPath(new URL('../build/Release/firesight_native.node', import.meta.url));

let addon: RawAddon | undefined;

/**
 * Loads the addon for its malloc setting alone (addon.cc: large blocks are mapped on their own
 * and given back when freed), in a long-running process that uses no BPF tool, such as the hub.
 * False when the addon cannot be loaded; the process then runs with glibc's dynamic threshold.
 */
export function keepLargeBlocksMapped(): boolean {
	try {
		loadAddon();
		return true;
	} catch {
		return false;
	}
}

/** Loads the compiled addon once. When it was never built this throws require's error, which the tool classes turn into a NativeError. */
export function loadAddon(): RawAddon {
	addon ??= createRequire(import.meta.url)(addonPath) as RawAddon;
	return addon;
}
