import { HTTPParser } from 'http-parser-js';

type Parser = InstanceType<typeof HTTPParser>;

/** A piece of one direction of a byte stream, as captured. */
export interface Chunk {
	/** The captured bytes: a prefix of what was sent when `length` is larger. */
	bytes: Uint8Array;
	/** Bytes that really went by; the difference to bytes.length is a gap of unknown content. */
	length: number;
	/** When the first byte of the chunk was there (e.g. the write call's entry). */
	firstNs: bigint;
	/** When the last byte was (e.g. the read call's return). */
	lastNs: bigint;
}

export interface MessageHead {
	method?: string;
	/** The request target as sent: path and query. */
	url?: string;
	status?: number;
	statusText?: string;
	versionMajor: number;
	versionMinor: number;
	/** In wire order, names as sent. */
	headers: [string, string][];
	keepAlive: boolean;
	upgrade: boolean;
}

export interface ParsedMessage extends MessageHead {
	kind: 'request' | 'response';
	/** Bytes on the wire: start line, headers, body (chunk framing included). */
	bytes: number;
	/** Decoded body bytes (after chunked framing). */
	bodyBytes: number;
	/** The first maxBodyBytes of the body, when asked for. */
	body?: Uint8Array;
	/** Part of the body was not captured (gap) or past maxBodyBytes. */
	bodyTruncated: boolean;
	/** Time of the chunk holding the first byte, and of the one holding the last. */
	startNs: bigint;
	endNs: bigint;
	/** How the message ended: its own framing, or the connection closing (no length given). */
	endedBy: 'framing' | 'eof';
}

export interface MessageParserOptions {
	/** Body bytes to keep per message; 0 (the default) keeps none. */
	maxBodyBytes?: number;
	onMessage: (m: ParsedMessage) => void;
	/** Requests only: called when a request's head is complete, before its body. */
	onHead?: (head: MessageHead, startNs: bigint) => void;
	/** Responses only: whether this response has no body whatever its headers say (a reply to HEAD). */
	bodiless?: () => boolean;
	/** The stream lost its place (a gap or a parse error): the message in progress is gone. */
	onDesync?: () => void;
}

export interface MessageParserStats {
	messages: number;
	/** Bytes that could not be parsed as HTTP/1.x (errors, gaps, skipped while resynchronizing). */
	skippedBytes: number;
	parseErrors: number;
	/** Gaps (uncaptured bytes) that fell outside a body of known length: the stream was resynchronized. */
	desyncs: number;
	/** Gaps filled inside a body of known length. */
	filledGaps: number;
}

/** Uncaptured bytes are parsed as zeros, this many at a time (the capture's chunk size). */
const FILL_PIECE = 16_384;
const FILL_ZEROS = Buffer.alloc(FILL_PIECE);

/** A message length no sender could mean (negative, not a number): the stream is out of step. */
class BadFraming extends Error {}

const REQUEST_START = /^[A-Z][A-Z-]{0,19} [^ \r\n]+ HTTP\/1\.[01]\r?\n/;
const RESPONSE_START = /^HTTP\/1\.[01] \d{3}[ \r\n]/;
const latin1 = new TextDecoder('latin1');

/** Whether bytes start like an HTTP/1.x request (a whole request line) or response. */
export function looksLikeMessageStart(bytes: Uint8Array, kind: 'request' | 'response'): boolean {
	const head = latin1.decode(bytes.subarray(0, Math.min(bytes.length, 2048)));
	return (kind === 'request' ? REQUEST_START : RESPONSE_START).test(head);
}

/**
 * Parses one direction of an HTTP/1.x connection into messages, with http-parser-js doing the
 * framing (Content-Length, chunked, until-close, pipelining, keep-alive). What it adds:
 * timestamps and wire sizes per message, capped body capture, and recovery from what capture
 * does to a stream: gaps of uncaptured bytes are filled when they fall inside a body of known
 * length and otherwise make the parser skip ahead to the next chunk that starts a message.
 */
export class MessageParser {
	readonly kind: 'request' | 'response';
	readonly stats: MessageParserStats = { messages: 0, skippedBytes: 0, parseErrors: 0, desyncs: 0, filledGaps: 0 };
	#parser: Parser;
	#opts: MessageParserOptions;
	#maxBody: number;
	#resync = false;
	// The message in progress.
	#head: MessageHead | undefined;
	#startNs: bigint | undefined;
	#bytes = 0;
	#bodyBytes = 0;
	#body: Uint8Array[] = [];
	#bodyKept = 0;
	#bodyTruncated = false;
	// Within the chunk being executed.
	#chunk: Chunk | undefined;
	#consumedFrom = 0;
	#filling = false;

	constructor(kind: 'request' | 'response', opts: MessageParserOptions) {
		this.kind = kind;
		this.#opts = opts;
		this.#maxBody = Math.max(0, opts.maxBodyBytes ?? 0);
		this.#parser = this.#newParser();
	}

	/** Feeds the next chunk of this direction, in order. */
	push(chunk: Chunk): void {
		if (chunk.length === 0) return;
		if (this.#resync) {
			if (!looksLikeMessageStart(chunk.bytes, this.kind)) {
				this.stats.skippedBytes += chunk.length;
				return;
			}
			this.#resync = false;
			this.#reset();
		}
		this.#execute(chunk, Buffer.from(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength));
		const missing = chunk.length - chunk.bytes.length;
		if (missing <= 0 || this.#resync) return;
		// Bytes that went by uncaptured: harmless inside a body whose end the framing knows.
		const p = this.#parser as unknown as { state: string; body_bytes: number | null };
		const fillable =
			p.state === 'BODY_RAW' ||
			((p.state === 'BODY_SIZED' || p.state === 'BODY_CHUNK') && p.body_bytes !== null && p.body_bytes >= missing);
		if (!fillable) {
			this.#desync(missing);
			return;
		}
		this.stats.filledGaps++;
		this.#bodyTruncated = true;
		this.#filling = true;
		// In pieces: a gap can be gigabytes, and http-parser-js counts a whole execute() that ends
		// between messages against its 80 KiB head limit.
		const fill = { ...chunk, bytes: new Uint8Array(0), firstNs: chunk.lastNs };
		for (let left = missing; left > 0 && !this.#resync; left -= FILL_PIECE) {
			this.#execute(fill, FILL_ZEROS.subarray(0, Math.min(left, FILL_PIECE)));
		}
		this.#filling = false;
	}

	/** The connection closed: a body that runs until close is complete now; anything else is cut short. */
	end(ns: bigint): void {
		if (this.#resync || this.#startNs === undefined) return;
		const p = this.#parser as unknown as { state: string };
		if (p.state === 'BODY_RAW') {
			this.#chunk = { bytes: new Uint8Array(0), length: 0, firstNs: ns, lastNs: ns };
			// The bytes so far are counted already; what the last chunk's earlier messages took is not this one's.
			this.#consumedFrom = 0;
			this.#endedByEof = true;
			this.#parser.finish();
			this.#endedByEof = false;
			this.#chunk = undefined;
		}
		this.#reset();
	}

	#endedByEof = false;

	#execute(chunk: Chunk, buf: Buffer): void {
		this.#chunk = chunk;
		this.#consumedFrom = 0;
		if (this.#startNs === undefined) this.#startNs = chunk.firstNs;
		let ret: ReturnType<Parser['execute']>;
		try {
			ret = this.#parser.execute(buf);
		} catch (err) {
			// Thrown from our own callback (kOnBody): a framing http-parser-js accepted but must not follow.
			if (!(err instanceof BadFraming)) throw err;
			ret = err;
		}
		if (ret instanceof Error) {
			this.stats.parseErrors++;
			this.#desync(buf.length - this.#consumedFrom);
			return;
		}
		this.#bytes += buf.length - this.#consumedFrom;
		this.#chunk = undefined;
	}

	#desync(skipped: number): void {
		this.stats.desyncs++;
		this.stats.skippedBytes += skipped + this.#bytes;
		this.#resync = true;
		this.#reset();
		this.#opts.onDesync?.();
	}

	#reset(): void {
		this.#parser = this.#newParser();
		this.#head = undefined;
		this.#startNs = undefined;
		this.#bytes = 0;
		this.#bodyBytes = 0;
		this.#body = [];
		this.#bodyKept = 0;
		this.#bodyTruncated = false;
	}

	#newParser(): Parser {
		const p = new HTTPParser(this.kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE);
		p[HTTPParser.kOnHeadersComplete] = (info) => {
			const headers: [string, string][] = [];
			for (let i = 0; i + 1 < info.headers.length; i += 2) headers.push([info.headers[i]!, info.headers[i + 1]!]);
			this.#head = {
				...(this.kind === 'request'
					? { method: HTTPParser.methods[info.method] ?? String(info.method), url: info.url }
					: { status: info.statusCode, statusText: info.statusMessage }),
				versionMajor: info.versionMajor,
				versionMinor: info.versionMinor,
				headers,
				keepAlive: info.shouldKeepAlive,
				upgrade: info.upgrade,
			};
			if (this.kind === 'request') this.#opts.onHead?.(this.#head, this.#startNs ?? 0n);
			// 1 = this message has no body (a reply to HEAD); http-parser-js then completes it.
			if (this.kind === 'response' && this.#opts.bodiless?.()) return 1;
			return 0;
		};
		p[HTTPParser.kOnBody] = (buf: Buffer, start: number, len: number) => {
			// http-parser-js takes `Content-Length: -3` or a chunk size of `-5` as they come, then steps
			// back by that much and parses the same bytes forever; `Content-Length: \0` gives NaN sizes,
			// and `Content-Length: 1e-2` fractions of a byte (the addon's parser takes those as NaN too).
			if (!(len >= 0) || !Number.isInteger(len)) throw new BadFraming(`body length ${len}`);
			this.#bodyBytes += len;
			if (this.#filling) return;
			const room = this.#maxBody - this.#bodyKept;
			if (room <= 0) {
				if (len > 0 && this.#maxBody > 0) this.#bodyTruncated = true;
				return;
			}
			const take = Math.min(room, len);
			this.#body.push(Uint8Array.prototype.slice.call(buf, start, start + take));
			this.#bodyKept += take;
			if (take < len) this.#bodyTruncated = true;
		};
		p[HTTPParser.kOnMessageComplete] = () => this.#complete(p);
		return p;
	}

	#complete(p: Parser): void {
		const chunk = this.#chunk;
		const head = this.#head;
		if (!chunk || !head) return;
		// Where in the chunk this message ended: the next one (pipelined) starts right there.
		const offset = this.#endedByEof ? 0 : (p as unknown as { offset: number }).offset;
		const end = (p as unknown as { end: number }).end;
		this.#bytes += offset - this.#consumedFrom;
		this.#consumedFrom = offset;
		let body: Uint8Array | undefined;
		if (this.#maxBody > 0) {
			body = new Uint8Array(this.#bodyKept);
			let at = 0;
			for (const part of this.#body) {
				body.set(part, at);
				at += part.length;
			}
		}
		const msg: ParsedMessage = {
			kind: this.kind,
			...head,
			bytes: this.#bytes,
			bodyBytes: this.#bodyBytes,
			...(body ? { body } : {}),
			bodyTruncated: this.#bodyTruncated,
			startNs: this.#startNs ?? chunk.firstNs,
			endNs: chunk.lastNs,
			endedBy: this.#endedByEof ? 'eof' : 'framing',
		};
		this.stats.messages++;
		this.#head = undefined;
		this.#bytes = 0;
		this.#bodyBytes = 0;
		this.#body = [];
		this.#bodyKept = 0;
		this.#bodyTruncated = false;
		this.#startNs = !this.#endedByEof && offset < end ? chunk.firstNs : undefined;
		this.#opts.onMessage(msg);
	}
}
