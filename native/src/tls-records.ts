/**
 * Decoders for the tls tool's ring-buffer records (bpf/tls.h). Every record starts with
 * {ts_ns u64, type u32, tgid u32}; golden-byte tests pin each layout.
 */
import { decodeCounterArray } from './counter-records.ts';
import { decodeHttp1Event, isHttp1RecordType, type Http1Event } from './http1-records.ts';

export const TLS_MAX_CAPTURE = 16_384;
export const TLS_DATA_EVENT_SIZE = 64;
export const TLS_CONN_EVENT_SIZE = 72;
export const TLS_CLOSE_EVENT_SIZE = 24;
export const TLS_PROC_EVENT_SIZE = 32;

const EV_DATA = 1;
const EV_CONN = 2;
const EV_CLOSE = 3;
const EV_EXEC = 4;
const EV_EXIT = 5;
const EV_TICK = 6;

/** enum tls_counter in bpf/tls.h, in order, then the addon's own drop count. */
export const TLS_COUNTERS = [
	'calls',
	'bytes',
	'dataLost',
	'controlLost',
	'truncated',
	'readFailed',
	'noEntry',
	'activeFull',
	'connFull',
	'requestContextFull',
	'requestSlotsFull',
	'responseUnmatched',
	'threadsFull',
	'streamDropped',
] as const;
export type TlsCounter = (typeof TLS_COUNTERS)[number];

/** enum tls_func. */
export const TLS_FUNCS = ['SSL_read', 'SSL_write', 'SSL_read_ex', 'SSL_write_ex'] as const;
/** enum tls_fd_source: how the socket of an SSL object was found. */
export const TLS_FD_SOURCES = ['unknown', 'inside-call', 'prior-read', 'next-write', 'cached'] as const;
export type TlsFdSource = (typeof TLS_FD_SOURCES)[number];

/**
 * One SSL call that moved bytes. `payload` is what was captured (≤ 16 KiB): a view into the
 * batch the record came in (no copy per record), so keeping it keeps that batch alive; copy it
 * (`payload.slice()`) to hold on to it.
 */
export interface TlsDataEvent {
	type: 'data';
	/** Return time, kernel monotonic ns. */
	tsNs: bigint;
	/** Entry time of an SSL_write, kernel monotonic ns; an SSL_read's is its return time (tsNs). */
	startNs: bigint;
	tgid: number;
	tid: number;
	ssl: bigint;
	direction: 'read' | 'write';
	func: (typeof TLS_FUNCS)[number];
	/** Bytes the call moved; more than payload.length when truncated. */
	length: number;
	payload: Uint8Array;
	/** -1 when the socket is not known yet (a conn event may follow). */
	fd: number;
	gen: number;
	fdSource: TlsFdSource;
	/**
	 * A read that starts an HTTP request: the id its thread's request context got, which the
	 * profile samples of the thread carry while it serves it (StackCount.requestId). 0 otherwise.
	 */
	requestId: number;
}

export interface TlsEndpoint {
	address: string;
	port: number;
}

/** An SSL object tied to (tgid, fd, gen). Endpoints are null for non-IP sockets or unreadable ones. */
export interface TlsConnEvent {
	type: 'conn';
	tsNs: bigint;
	tgid: number;
	ssl: bigint;
	fd: number;
	gen: number;
	family: 'ipv4' | 'ipv6' | 'other';
	local: TlsEndpoint | null;
	remote: TlsEndpoint | null;
	fdSource: TlsFdSource;
}

export interface TlsCloseEvent {
	type: 'close';
	tsNs: bigint;
	tgid: number;
	fd: number;
	gen: number;
}

export interface TlsProcEvent {
	type: 'exec' | 'exit';
	tsNs: bigint;
	tgid: number;
	comm: string;
}

/** A flush record (TLS_EV_TICK): no longer emitted by the kernel side; decoded and dropped. */
export interface TlsTickEvent {
	type: 'tick';
	tsNs: bigint;
}

/**
 * What a tls batch holds. The addon's HTTP/1 tracker takes the data and close records and gives
 * its own (http1-records.ts) instead; the kernel's data and close records remain decodable.
 */
export type TlsEvent = TlsDataEvent | TlsConnEvent | TlsCloseEvent | TlsProcEvent | TlsTickEvent | Http1Event;

const decoder = new TextDecoder();

function cString(bytes: Uint8Array): string {
	const end = bytes.indexOf(0);
	return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

function ipv4(b: Uint8Array): string {
	return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** RFC 5952-ish: lower-case hex groups, the longest zero run compressed, IPv4-mapped kept dotted. */
export function formatIpv6(b: Uint8Array): string {
	const groups: number[] = [];
	for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
	if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${ipv4(b.subarray(12))}`;
	let bestAt = -1,
		bestLen = 0;
	for (let i = 0; i < 8;) {
		if (groups[i] !== 0) {
			i++;
			continue;
		}
		let j = i;
		while (j < 8 && groups[j] === 0) j++;
		if (j - i > bestLen && j - i > 1) {
			bestAt = i;
			bestLen = j - i;
		}
		i = j;
	}
	const hex = groups.map((g) => g.toString(16));
	if (bestAt < 0) return hex.join(':');
	return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

function bytes(v: DataView, off: number, len: number): Uint8Array {
	return new Uint8Array(v.buffer, v.byteOffset + off, len);
}

/** Decodes one record (a view from ringBufferRecords). Unknown types and short records throw. */
export function decodeTlsEvent(v: DataView): TlsEvent {
	if (v.byteLength < 16) throw new Error(`tls record of ${v.byteLength} bytes is shorter than its head`);
	const tsNs = v.getBigUint64(0, true);
	const type = v.getUint32(8, true);
	const tgid = v.getUint32(12, true);
	if (isHttp1RecordType(type)) return decodeHttp1Event(v);
	switch (type) {
		case EV_DATA: {
			if (v.byteLength < TLS_DATA_EVENT_SIZE) throw new Error('short tls data record');
			const capLen = v.getUint32(40, true);
			if (TLS_DATA_EVENT_SIZE + capLen > v.byteLength) {
				throw new Error(`tls data record claims ${capLen} payload bytes, has ${v.byteLength - TLS_DATA_EVENT_SIZE}`);
			}
			return {
				type: 'data',
				tsNs,
				tgid,
				startNs: v.getBigUint64(16, true),
				ssl: v.getBigUint64(24, true),
				tid: v.getUint32(32, true),
				length: v.getUint32(36, true),
				payload: bytes(v, TLS_DATA_EVENT_SIZE, capLen),
				fd: v.getInt32(44, true),
				gen: v.getUint32(48, true),
				requestId: v.getUint32(52, true),
				direction: v.getUint8(56) === 0 ? 'read' : 'write',
				func: TLS_FUNCS[v.getUint8(57)] ?? 'SSL_read',
				fdSource: TLS_FD_SOURCES[v.getUint8(58)] ?? 'unknown',
			};
		}
		case EV_CONN: {
			if (v.byteLength < TLS_CONN_EVENT_SIZE) throw new Error('short tls conn record');
			const fam = v.getUint16(32, true);
			const lport = v.getUint16(34, true);
			const rport = v.getUint16(36, true);
			const laddr = bytes(v, 40, 16);
			const raddr = bytes(v, 56, 16);
			const family = fam === 2 ? 'ipv4' : fam === 10 ? 'ipv6' : 'other';
			const fmt = family === 'ipv4' ? ipv4 : formatIpv6;
			const known = family !== 'other';
			return {
				type: 'conn',
				tsNs,
				tgid,
				ssl: v.getBigUint64(16, true),
				fd: v.getInt32(24, true),
				gen: v.getUint32(28, true),
				family,
				local: known ? { address: fmt(laddr), port: lport } : null,
				// A socket not connected yet has no peer: say so rather than print 0.0.0.0:0.
				remote: known && rport !== 0 ? { address: fmt(raddr), port: rport } : null,
				fdSource: TLS_FD_SOURCES[v.getUint8(38)] ?? 'unknown',
			};
		}
		case EV_CLOSE:
			if (v.byteLength < TLS_CLOSE_EVENT_SIZE) throw new Error('short tls close record');
			return { type: 'close', tsNs, tgid, fd: v.getInt32(16, true), gen: v.getUint32(20, true) };
		case EV_EXEC:
		case EV_EXIT:
			if (v.byteLength < TLS_PROC_EVENT_SIZE) throw new Error('short tls proc record');
			return { type: type === EV_EXEC ? 'exec' : 'exit', tsNs, tgid, comm: cString(bytes(v, 16, 16)) };
		case EV_TICK:
			return { type: 'tick', tsNs };
		default:
			throw new Error(`unknown tls record type ${type}`);
	}
}

/** The counters buffer from the addon: TLS_COUNTER_MAX u64 totals, then the stream's drops. */
export function decodeTlsCounters(buf: ArrayBuffer): Record<TlsCounter, number> {
	return decodeCounterArray('tls', TLS_COUNTERS, buf);
}
