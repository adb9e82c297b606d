/**
 * Decoders for the tcp tool's records: bpf/tcp.h's `struct tcp_conn_record` (connection-map
 * reads) and `struct tcp_event` (ring-buffer events). Golden-byte tests pin the layouts.
 */
import { decodeCounterArray } from './counter-records.ts';

export const TCP_COMM_LEN = 16;
export const TCP_TUPLE_SIZE = 40;
export const TCP_CONN_SIZE = 136;
export const TCP_CONN_RECORD_SIZE = 144;
export const TCP_EVENT_SIZE = 168;

/** enum tcp_counter in bpf/tcp.h, in order. */
export const TCP_COUNTERS = [
	'retransmitCalls',
	'retransmitSegments',
	'synackRetransmits',
	'stateChanges',
	'ownerUnknown',
	'connectionsMapFull',
	'ringBufferFull',
	'synackPendingFull',
	'ownerMissed',
] as const;
export type TcpCounter = (typeof TCP_COUNTERS)[number];

/** Kernel TCP states (include/net/tcp_states.h), indexed by number. */
export const TCP_STATES = [
	'UNKNOWN',
	'ESTABLISHED',
	'SYN_SENT',
	'SYN_RECV',
	'FIN_WAIT1',
	'FIN_WAIT2',
	'TIME_WAIT',
	'CLOSE',
	'CLOSE_WAIT',
	'LAST_ACK',
	'LISTEN',
	'CLOSING',
	'NEW_SYN_RECV',
] as const;
export type TcpState = (typeof TCP_STATES)[number];

export const AF_INET = 2;
export const AF_INET6 = 10;

/** TCP_CONN_* flags in bpf/tcp.h. */
export const TCP_CONN_ACTIVE = 0x01;
export const TCP_CONN_PASSIVE = 0x02;
export const TCP_CONN_OWNER_KNOWN = 0x04;
export const TCP_CONN_MIDWAY = 0x08;

export interface TcpTuple {
	family: 4 | 6;
	/** Dotted quad or RFC 5952 text. A v4-mapped IPv6 address prints as ::ffff:a.b.c.d. */
	saddr: string;
	sport: number;
	daddr: string;
	dport: number;
}

/** One connection as the kernel aggregates it. Times are CLOCK_MONOTONIC nanoseconds; 0 = not yet. */
export interface TcpConnection extends TcpTuple {
	/** The socket cookie: unique per socket for the life of the kernel. */
	cookie: bigint;
	/** Owner tgid, 0 when unknown (a socket opened before tracing began, or accept() unseen). */
	pid: number;
	comm: string;
	state: TcpState;
	/** connect() made it (active), accept() took it (passive), or neither is known. */
	direction: 'active' | 'passive' | 'unknown';
	ownerKnown: boolean;
	/** First seen after it was opened: startNs is when tracing first saw it. */
	midway: boolean;
	startNs: bigint;
	endNs: bigint;
	firstRetransmitNs: bigint;
	lastRetransmitNs: bigint;
	bytesAcked: number;
	bytesReceived: number;
	/** Data segments retransmitted, as the kernel's TcpRetransSegs counts them. */
	retransmitSegments: number;
	/** tcp_retransmit_skb calls that sent something (an skb can hold several segments). */
	retransmitSkbs: number;
	/** Retransmit attempts that failed before anything was sent. */
	retransmitFailures: number;
	/** SYN-ACKs retransmitted before a passive connection was accepted. */
	synackRetransmits: number;
	/** retransmitSegments + synackRetransmits: this connection's share of TcpRetransSegs. */
	retransmits: number;
}

export type TcpEventKind = 'retransmit' | 'synackRetransmit' | 'open' | 'close';
const EVENT_KINDS: Record<number, TcpEventKind> = {
	1: 'retransmit',
	2: 'synackRetransmit',
	3: 'open',
	4: 'close',
};

export interface TcpEvent {
	kind: TcpEventKind;
	/** CLOCK_MONOTONIC nanoseconds. */
	tsNs: bigint;
	/** retransmit: segments this call added to TcpRetransSegs (0 when it gave up before counting). */
	segments: number;
	/** retransmit: 0 when sent, else the negative errno tcp_retransmit_skb returned. */
	err: number;
	/** close: the state the connection left. */
	oldState: TcpState;
	/** The connection after the event. For synackRetransmit the cookie is 0 (no socket yet). */
	connection: TcpConnection;
}

const decoder = new TextDecoder();

function cString(bytes: Uint8Array): string {
	const end = bytes.indexOf(0);
	return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

function stateName(n: number): TcpState {
	return TCP_STATES[n] ?? 'UNKNOWN';
}

/** IPv4 dotted quad from 4 bytes in network order. */
export function formatIPv4(b: Uint8Array): string {
	return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** RFC 5952 text for 16 bytes in network order (longest zero run of 2+ groups as ::). */
export function formatIPv6(b: Uint8Array): string {
	const groups: number[] = [];
	for (let i = 0; i < 16; i += 2) groups.push(((b[i] ?? 0) << 8) | (b[i + 1] ?? 0));
	const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
	if (isMapped) return `::ffff:${formatIPv4(b.subarray(12, 16))}`;
	let bestStart = -1;
	let bestLen = 0;
	for (let i = 0; i < 8;) {
		if (groups[i] !== 0) {
			i++;
			continue;
		}
		let j = i;
		while (j < 8 && groups[j] === 0) j++;
		if (j - i > bestLen && j - i >= 2) {
			bestStart = i;
			bestLen = j - i;
		}
		i = j;
	}
	const hex = groups.map((g) => g.toString(16));
	if (bestStart < 0) return hex.join(':');
	return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** struct tcp_conn at `off` in `view`; the cookie comes from the record around it. */
function decodeConn(view: DataView, off: number, cookie: bigint): TcpConnection {
	const bytes = new Uint8Array(view.buffer, view.byteOffset + off, TCP_CONN_SIZE);
	const flags = view.getUint8(off + 77);
	const t = off + 96; // struct tcp_tuple
	const family = view.getUint16(t + 36, true) === AF_INET6 ? 6 : 4;
	const saddr = bytes.subarray(96, 112);
	const daddr = bytes.subarray(112, 128);
	const retransmitSegments = view.getUint32(off + 48, true);
	const synackRetransmits = view.getUint32(off + 60, true);
	return {
		cookie,
		family,
		saddr: family === 6 ? formatIPv6(saddr) : formatIPv4(saddr),
		sport: view.getUint16(t + 32, true),
		daddr: family === 6 ? formatIPv6(daddr) : formatIPv4(daddr),
		dport: view.getUint16(t + 34, true),
		pid: view.getUint32(off + 64, true),
		comm: cString(bytes.subarray(80, 80 + TCP_COMM_LEN)),
		state: stateName(view.getUint8(off + 76)),
		direction: flags & TCP_CONN_ACTIVE ? 'active' : flags & TCP_CONN_PASSIVE ? 'passive' : 'unknown',
		ownerKnown: (flags & TCP_CONN_OWNER_KNOWN) !== 0,
		midway: (flags & TCP_CONN_MIDWAY) !== 0,
		startNs: view.getBigUint64(off, true),
		endNs: view.getBigUint64(off + 8, true),
		firstRetransmitNs: view.getBigUint64(off + 16, true),
		lastRetransmitNs: view.getBigUint64(off + 24, true),
		bytesAcked: Number(view.getBigUint64(off + 32, true)),
		bytesReceived: Number(view.getBigUint64(off + 40, true)),
		retransmitSegments,
		retransmitSkbs: view.getUint32(off + 52, true),
		retransmitFailures: view.getUint32(off + 56, true),
		synackRetransmits,
		retransmits: retransmitSegments + synackRetransmits,
	};
}

/** A batch of struct tcp_conn_record {cookie u64, struct tcp_conn}. */
export function decodeConnections(buf: ArrayBuffer): TcpConnection[] {
	if (buf.byteLength % TCP_CONN_RECORD_SIZE !== 0) {
		throw new Error(`tcp connection batch of ${buf.byteLength} bytes is not a multiple of ${TCP_CONN_RECORD_SIZE}`);
	}
	const view = new DataView(buf);
	const out: TcpConnection[] = [];
	for (let off = 0; off < buf.byteLength; off += TCP_CONN_RECORD_SIZE) {
		out.push(decodeConn(view, off + 8, view.getBigUint64(off, true)));
	}
	return out;
}

/** One struct tcp_event (a ring-buffer record's bytes). Null for a kind this decoder does not know. */
export function decodeEvent(view: DataView): TcpEvent | null {
	if (view.byteLength < TCP_EVENT_SIZE) throw new Error(`tcp event of ${view.byteLength} bytes, expected ${TCP_EVENT_SIZE}`);
	const kind = EVENT_KINDS[view.getUint32(16, true)];
	if (!kind) return null;
	return {
		kind,
		tsNs: view.getBigUint64(0, true),
		segments: view.getUint32(20, true),
		err: view.getInt32(24, true),
		oldState: stateName(view.getUint8(28)),
		connection: decodeConn(view, 32, view.getBigUint64(8, true)),
	};
}

/** The counters array (u64 per enum tcp_counter) as named totals; throws on a size mismatch. */
export function decodeTcpCounters(buf: ArrayBuffer): Record<TcpCounter, number> {
	return decodeCounterArray('tcp', TCP_COUNTERS, buf);
}
