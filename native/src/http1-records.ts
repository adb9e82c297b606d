/**
 * Decoders for the records the addon's HTTP/1 tracker hands JavaScript in place of the tls
 * tool's data and close records (http1-records.h): exchanges, connection summaries and request
 * starts. Golden-byte tests pin each layout.
 */

export const HTTP1_EXCHANGE_RECORD_SIZE = 128;
export const HTTP1_CONN_RECORD_SIZE = 64;
export const HTTP1_REQUEST_START_RECORD_SIZE = 32;

export const HTTP1_EV_EXCHANGE = 64;
export const HTTP1_EV_CONN_END = 65;
export const HTTP1_EV_CONN_OPEN = 66;
export const HTTP1_EV_REQUEST_START = 67;

/** enum http1_stat, in order. Loss counters keep the names packages/http1 gives them. */
export const HTTP1_STATS = [
	'open',
	'closed',
	'evicted',
	'unboundSeen',
	'exchanges',
	'parseErrors',
	'desyncs',
	'skippedBytes',
	'filledGaps',
	'unpairedResponses',
	'unansweredRequests',
	'pendingDropped',
	'otherProtocolBytes',
] as const;
export type Http1Stat = (typeof HTTP1_STATS)[number];

const F_REQ_KEEP_ALIVE = 1 << 0;
const F_REQ_UPGRADE = 1 << 1;
const F_RES_KEEP_ALIVE = 1 << 2;
const F_RES_UPGRADE = 1 << 3;
const F_REQ_HAS_BODY = 1 << 4;
const F_RES_HAS_BODY = 1 << 5;
const F_REQ_BODY_TRUNCATED = 1 << 6;
const F_RES_BODY_TRUNCATED = 1 << 7;
const F_REQ_ENDED_BY_EOF = 1 << 8;
const F_RES_ENDED_BY_EOF = 1 << 9;

/** One message of an exchange, shaped as packages/http1's ParsedMessage. Text is latin1. */
export interface Http1Message {
	kind: 'request' | 'response';
	method?: string;
	url?: string;
	status?: number;
	statusText?: string;
	versionMajor: number;
	versionMinor: number;
	headers: [string, string][];
	keepAlive: boolean;
	upgrade: boolean;
	bytes: number;
	bodyBytes: number;
	/** Present when body capture was on for the connection's process. */
	body?: Uint8Array;
	bodyTruncated: boolean;
	startNs: bigint;
	endNs: bigint;
	endedBy: 'framing' | 'eof';
}

/** A request with its response, shaped as packages/http1's Http1Exchange. */
export interface Http1ExchangeData {
	role: 'client' | 'server';
	request: Http1Message;
	response: Http1Message;
	startNs: bigint;
	endNs: bigint;
}

export interface Http1ExchangeEvent {
	type: 'exchange';
	tsNs: bigint;
	tgid: number;
	/** The SSL object's address (user-space addresses fit in 53 bits). */
	ssl: number;
	/** -1 when the socket never became known. */
	fd: number;
	gen: number;
	/** The id the kernel gave the read the request began with (its requestStart's); 0 when none. */
	requestId: number;
	exchange: Http1ExchangeData;
}

/**
 * An exchange as the collector's capture takes it: only what a request record needs, flat, with
 * no message objects and no BigInts (timestamps are kernel monotonic ns as numbers: exact for
 * 104 days of uptime, then to a few ns). Header values are as the decoder's HeaderNames said
 * (the capture's redaction); a header tuple may be shared by many records, never to be changed.
 */
export interface Http1ExchangeRecord {
	type: 'exchangeRecord';
	tgid: number;
	ssl: number;
	fd: number;
	gen: number;
	role: 'client' | 'server';
	requestId: number;
	method: string;
	url: string;
	status: number;
	/** The response's version, e.g. `1.1`. */
	httpVersion: string;
	requestHeaders: [string, string][];
	responseHeaders: [string, string][];
	/** Wire bytes, head and body. */
	reqBytes: number;
	respBytes: number;
	/** Present when body capture was on for the connection's process. */
	requestBody?: Uint8Array;
	responseBody?: Uint8Array;
	/** The request's first byte and the response's last, kernel monotonic ns. */
	startNs: number;
	endNs: number;
	/** endNs - startNs, exact. */
	latencyNs: number;
}

/** A connection of the tracker: ended (connEnd) or still open (connOpen, from connections()). */
export interface Http1ConnEvent {
	type: 'connEnd' | 'connOpen';
	tsNs: bigint;
	tgid: number;
	ssl: number;
	fd: number;
	gen: number;
	protocol: 'pending' | 'http1' | 'other';
	role: 'client' | 'server' | null;
	bytesOut: number;
	bytesIn: number;
	requests: number;
	/** What the tracker counted lost on this connection: parse errors, desyncs, unpaired responses, requests past the pipelining bound. */
	losses: number;
}

/** A read the kernel gave a request id: the request line it started with (null when none ended in it). */
export interface Http1RequestStartEvent {
	type: 'requestStart';
	tsNs: bigint;
	tgid: number;
	tid: number;
	requestId: number;
	line: string | null;
}

export type Http1Event = Http1ExchangeEvent | Http1ConnEvent | Http1RequestStartEvent;

const PROTOCOLS = ['pending', 'http1', 'other'] as const;
const ROLES = [null, 'client', 'server'] as const;

function u64(v: DataView, off: number): number {
	return v.getUint32(off, true) + v.getUint32(off + 4, true) * 2 ** 32;
}

/** One Buffer per batch, reused for every record of it: making one per string costs more than decoding it. */
let batchBuffer: ArrayBufferLike | undefined;
let batchBytes: Buffer = Buffer.alloc(0);

function latin1(v: DataView, off: number, len: number): string {
	if (v.buffer !== batchBuffer) {
		batchBuffer = v.buffer;
		batchBytes = Buffer.from(v.buffer);
	}
	const at = v.byteOffset + off;
	return batchBytes.toString('latin1', at, at + len);
}

/** Decodes an addon record of type 64-67 (see isHttp1Record). Short or inconsistent records throw. */
export function decodeHttp1Event(v: DataView): Http1Event {
	if (v.byteLength < 16) throw new Error(`http1 record of ${v.byteLength} bytes is shorter than its head`);
	const tsNs = v.getBigUint64(0, true);
	const type = v.getUint32(8, true);
	const tgid = v.getUint32(12, true);
	switch (type) {
		case HTTP1_EV_EXCHANGE:
			return decodeExchange(v, tsNs, tgid);
		case HTTP1_EV_CONN_END:
		case HTTP1_EV_CONN_OPEN: {
			if (v.byteLength < HTTP1_CONN_RECORD_SIZE) throw new Error('short http1 connection record');
			return {
				type: type === HTTP1_EV_CONN_END ? 'connEnd' : 'connOpen',
				tsNs,
				tgid,
				ssl: u64(v, 16),
				bytesOut: u64(v, 24),
				bytesIn: u64(v, 32),
				requests: u64(v, 40),
				fd: v.getInt32(48, true),
				gen: v.getUint32(52, true),
				protocol: PROTOCOLS[v.getUint8(56)] ?? 'other',
				role: ROLES[v.getUint8(57)] ?? null,
				losses: v.getUint32(60, true),
			};
		}
		case HTTP1_EV_REQUEST_START: {
			if (v.byteLength < HTTP1_REQUEST_START_RECORD_SIZE) throw new Error('short http1 request start record');
			const lineLen = v.getUint32(24, true);
			if (HTTP1_REQUEST_START_RECORD_SIZE + lineLen > v.byteLength) throw new Error('http1 request line runs past its record');
			return {
				type: 'requestStart',
				tsNs,
				tgid,
				requestId: v.getUint32(16, true),
				tid: v.getUint32(20, true),
				line: v.getUint32(28, true) !== 0 ? latin1(v, HTTP1_REQUEST_START_RECORD_SIZE, lineLen) : null,
			};
		}
		default:
			throw new Error(`unknown http1 record type ${type}`);
	}
}

export function isHttp1RecordType(type: number): boolean {
	return type >= HTTP1_EV_EXCHANGE && type <= HTTP1_EV_REQUEST_START;
}

/**
 * The full form of an exchange record: the flat one (decodeExchangeRecordAt, with its checks),
 * and what only the full form has (status text, versions, flags, the messages' own times and
 * body sizes) read beside it. Tests, fuzzing, replays and the differential check use it; the
 * capture reads the flat one.
 */
function decodeExchange(v: DataView, tsNs: bigint, tgid: number): Http1ExchangeEvent {
	const x = decodeExchangeRecordAt(v, 0, v.byteLength);
	const flags = v.getUint16(116, true);
	const reqVersion = v.getUint8(119);
	const resVersion = v.getUint8(120);
	const request: Http1Message = {
		kind: 'request',
		method: x.method,
		url: x.url,
		versionMajor: reqVersion >> 4,
		versionMinor: reqVersion & 15,
		headers: x.requestHeaders,
		keepAlive: (flags & F_REQ_KEEP_ALIVE) !== 0,
		upgrade: (flags & F_REQ_UPGRADE) !== 0,
		bytes: x.reqBytes,
		bodyBytes: u64(v, 64),
		bodyTruncated: (flags & F_REQ_BODY_TRUNCATED) !== 0,
		startNs: v.getBigUint64(24, true),
		endNs: v.getBigUint64(32, true),
		endedBy: (flags & F_REQ_ENDED_BY_EOF) !== 0 ? 'eof' : 'framing',
	};
	if (x.requestBody) request.body = x.requestBody;
	const response: Http1Message = {
		kind: 'response',
		status: x.status,
		statusText: latin1(v, HTTP1_EXCHANGE_RECORD_SIZE + x.method.length + x.url.length, v.getUint32(92, true)),
		versionMajor: resVersion >> 4,
		versionMinor: resVersion & 15,
		headers: x.responseHeaders,
		keepAlive: (flags & F_RES_KEEP_ALIVE) !== 0,
		upgrade: (flags & F_RES_UPGRADE) !== 0,
		bytes: x.respBytes,
		bodyBytes: u64(v, 72),
		bodyTruncated: (flags & F_RES_BODY_TRUNCATED) !== 0,
		startNs: v.getBigUint64(40, true),
		endNs: tsNs,
		endedBy: (flags & F_RES_ENDED_BY_EOF) !== 0 ? 'eof' : 'framing',
	};
	if (x.responseBody) response.body = x.responseBody;
	return {
		type: 'exchange',
		tsNs,
		tgid,
		ssl: x.ssl,
		fd: x.fd,
		gen: x.gen,
		requestId: x.requestId,
		exchange: { role: x.role, request, response, startNs: request.startNs, endNs: tsNs },
	};
}

/** HTTP/1.1 and 1.0 as the same strings every time, not one built per record. */
const HTTP_VERSIONS = ['1.0', '1.1'];
function httpVersion(version: number): string {
	const major = version >> 4;
	const minor = version & 15;
	return (major === 1 ? HTTP_VERSIONS[minor] : undefined) ?? `${major}.${minor}`;
}

/**
 * latin1 text at `from` bytes into an exchange record's strings. (A function, not a closure per
 * record: the TypeScript loader names every closure it makes, a property definition each time.)
 */
function text(v: DataView, from: number, len: number): string {
	return latin1(v, HTTP1_EXCHANGE_RECORD_SIZE + from, len);
}

/** struct http1_header: {u32 name_key, u32 pair_key, u32 name_len, u32 value_len} before a header's name. */
export const HTTP1_HEADER_SIZE = 16;
const HEADER_HEAD = HTTP1_HEADER_SIZE;
/** HTTP1_HEADER_KEYS. */
export const HTTP1_HEADER_KEYS = 4096;

interface HeaderName {
	key: number;
	name: string;
	value: string | undefined;
}

interface HeaderPair {
	key: number;
	/** Shared by every record with this header line: nobody changes a record's headers. */
	header: [string, string];
	/** The bytes it was made from (a check that a key read from a record is this one). */
	nameLen: number;
	valueLen: number;
}

/**
 * What was made of each header name and header line the tracker keyed (name_key, pair_key): the
 * name's string and what its values show instead of themselves (`valueOf`: a redaction), decided
 * once per name; a line's [name, value], made once per line. One per tracker: keys are a
 * tracker's own.
 */
export class HeaderNames {
	readonly #names: (HeaderName | undefined)[] = new Array(HTTP1_HEADER_KEYS);
	readonly #pairs: (HeaderPair | undefined)[] = new Array(HTTP1_HEADER_KEYS);
	readonly #valueOf: (name: string) => string | undefined;

	/** `valueOf(name)`: the value every header of that name shows, or undefined for its own. */
	constructor(valueOf: (name: string) => string | undefined) {
		this.#valueOf = valueOf;
	}

	get(key: number): HeaderName | undefined {
		const e = this.#names[key % HTTP1_HEADER_KEYS];
		return key !== 0 && e?.key === key ? e : undefined;
	}

	add(key: number, name: string): HeaderName {
		const e: HeaderName = { key, name, value: this.#valueOf(name) };
		// The tracker's live keys are consecutive: no two share a slot.
		if (key !== 0) this.#names[key % HTTP1_HEADER_KEYS] = e;
		return e;
	}

	pair(key: number, nameLen: number, valueLen: number): [string, string] | undefined {
		const e = this.#pairs[key % HTTP1_HEADER_KEYS];
		return key !== 0 && e?.key === key && e.nameLen === nameLen && e.valueLen === valueLen ? e.header : undefined;
	}

	addPair(key: number, header: [string, string], nameLen: number, valueLen: number): void {
		if (key !== 0) this.#pairs[key % HTTP1_HEADER_KEYS] = { key, header, nameLen, valueLen };
	}
}

/**
 * An exchange record (HTTP1_EV_EXCHANGE) as an Http1ExchangeRecord; the same checks as
 * decodeHttp1Event: a short or inconsistent record throws. With `names`, headers are taken from
 * it by key (shared by the records that have them), and values replaced as it says.
 */
export function decodeHttp1ExchangeRecord(v: DataView, names?: HeaderNames): Http1ExchangeRecord {
	return decodeExchangeRecordAt(v, 0, v.byteLength, names);
}

/**
 * decodeHttp1ExchangeRecord of the `length` bytes at `base` in `v`: a batch's records are read
 * through the batch's one DataView, not a DataView made per record.
 */
export function decodeExchangeRecordAt(v: DataView, base: number, length: number, names?: HeaderNames): Http1ExchangeRecord {
	if (length < HTTP1_EXCHANGE_RECORD_SIZE) throw new Error('short http1 exchange record');
	if (v.getUint32(base + 8, true) !== HTTP1_EV_EXCHANGE) {
		throw new Error(`http1 record of type ${v.getUint32(base + 8, true)} is not an exchange`);
	}
	const urlLen = v.getUint32(base + 88, true);
	const statusTextLen = v.getUint32(base + 92, true);
	const reqHeaders = v.getUint32(base + 96, true);
	const resHeaders = v.getUint32(base + 100, true);
	const reqBodyLen = v.getUint32(base + 104, true);
	const resBodyLen = v.getUint32(base + 108, true);
	const methodLen = v.getUint16(base + 114, true);
	const flags = v.getUint16(base + 116, true);
	const textEnd = length - reqBodyLen - resBodyLen;
	if (textEnd < HTTP1_EXCHANGE_RECORD_SIZE) throw new Error('http1 exchange bodies run past their record');
	// Strings are made only as needed: most header lines are known by key (names).
	const textLen = textEnd - HTTP1_EXCHANGE_RECORD_SIZE;
	let at = methodLen + urlLen + statusTextLen;
	if (at > textLen) throw new Error('http1 exchange strings run past their record');
	const methodUrl = text(v, base, methodLen + urlLen);
	const requestHeaders: [string, string][] = [];
	const responseHeaders: [string, string][] = [];
	for (let i = 0; i < reqHeaders + resHeaders; i++) {
		const off = base + HTTP1_EXCHANGE_RECORD_SIZE + at;
		if (off + HEADER_HEAD > base + textEnd) throw new Error('http1 exchange headers run past their record');
		const nameLen = v.getUint32(off + 8, true);
		const valueLen = v.getUint32(off + 12, true);
		const nameEnd = at + HEADER_HEAD + nameLen;
		const valueEnd = nameEnd + valueLen;
		if (valueEnd > textLen) throw new Error('http1 exchange headers run past their record');
		const list = i < reqHeaders ? requestHeaders : responseHeaders;
		at = valueEnd;
		if (!names) {
			list.push([text(v, base + nameEnd - nameLen, nameLen), text(v, base + nameEnd, valueLen)]);
			continue;
		}
		const pairKey = v.getUint32(off + 4, true);
		const seen = names.pair(pairKey, nameLen, valueLen);
		if (seen) {
			list.push(seen);
			continue;
		}
		const key = v.getUint32(off, true);
		let known = names.get(key);
		// A name of another length is not the keyed one (a damaged record): taken as it is.
		if (!known || known.name.length !== nameLen) known = names.add(known ? 0 : key, text(v, base + nameEnd - nameLen, nameLen));
		const header: [string, string] = [known.name, known.value ?? text(v, base + nameEnd, valueLen)];
		names.addPair(pairKey, header, nameLen, valueLen);
		list.push(header);
	}
	if (at !== textLen) throw new Error('http1 exchange record has bytes past its fields');
	// Kernel ns as numbers: high and low halves, so that the latency is exact whatever the uptime.
	const endLo = v.getUint32(base, true);
	const endHi = v.getUint32(base + 4, true);
	const startLo = v.getUint32(base + 24, true);
	const startHi = v.getUint32(base + 28, true);
	const out: Http1ExchangeRecord = {
		type: 'exchangeRecord',
		tgid: v.getUint32(base + 12, true),
		ssl: u64(v, base + 16),
		fd: v.getInt32(base + 80, true),
		gen: v.getUint32(base + 84, true),
		role: v.getUint8(base + 118) === 2 ? 'server' : 'client',
		requestId: v.getUint32(base + 124, true),
		method: methodUrl.slice(0, methodLen),
		url: methodUrl.slice(methodLen),
		status: v.getUint16(base + 112, true),
		httpVersion: httpVersion(v.getUint8(base + 120)),
		requestHeaders,
		responseHeaders,
		reqBytes: u64(v, base + 48),
		respBytes: u64(v, base + 56),
		startNs: startLo + startHi * 2 ** 32,
		endNs: endLo + endHi * 2 ** 32,
		latencyNs: endLo - startLo + (endHi - startHi) * 2 ** 32,
	};
	const bodyAt = v.byteOffset + base + textEnd;
	if (flags & F_REQ_HAS_BODY) out.requestBody = new Uint8Array(v.buffer.slice(bodyAt, bodyAt + reqBodyLen));
	if (flags & F_RES_HAS_BODY) out.responseBody = new Uint8Array(v.buffer.slice(bodyAt + reqBodyLen, bodyAt + reqBodyLen + resBodyLen));
	return out;
}

/** The tracker's totals (HTTP1_STAT_MAX u64s). A buffer of another length is a layout drift: it throws. */
export function decodeHttp1Stats(buf: ArrayBuffer): Record<Http1Stat, number> {
	if (buf.byteLength !== HTTP1_STATS.length * 8) {
		throw new Error(`http1 stats of ${buf.byteLength} bytes, expected ${HTTP1_STATS.length * 8}`);
	}
	const v = new DataView(buf);
	const out = {} as Record<Http1Stat, number>;
	HTTP1_STATS.forEach((name, i) => {
		out[name] = u64(v, i * 8);
	});
	return out;
}
