import { looksLikeMessageStart, MessageParser, type Chunk, type MessageHead, type ParsedMessage } from './message-parser.ts';

/** Relative to the observed process: what it wrote, and what it read. */
export type Side = 'outbound' | 'inbound';

/** One request with its response. */
export interface Http1Exchange {
	/** Whether the observed process sent the request (client) or answered it (server). */
	role: 'client' | 'server';
	request: ParsedMessage;
	response: ParsedMessage;
	/** From the first request byte to the last response byte. */
	startNs: bigint;
	endNs: bigint;
}

export interface Http1ConnectionStats {
	/** 'pending' until the first bytes; 'other' when they were not HTTP/1.x (or after an upgrade). */
	protocol: 'pending' | 'http1' | 'other';
	outboundBytes: number;
	inboundBytes: number;
	exchanges: number;
	/** Responses with no request to pair with (the request was not captured). */
	unpairedResponses: number;
	/** Requests still waiting when the connection ended. */
	unansweredRequests: number;
	parseErrors: number;
	desyncs: number;
	skippedBytes: number;
}

export interface Http1ConnectionOptions {
	onExchange: (ex: Http1Exchange) => void;
	/** Body bytes to keep per message; 0 (the default) keeps none. */
	maxBodyBytes?: number;
	/** Requests waiting for a response, beyond which the oldest are dropped (pipelining bound). */
	maxPending?: number;
}

const other = (s: Side): Side => (s === 'outbound' ? 'inbound' : 'outbound');

/**
 * Both directions of one connection: decides which side carries requests from the first bytes,
 * parses each direction, and pairs responses with requests in order (HTTP/1.x answers in
 * request order, pipelined or not). Traffic that does not start like HTTP/1.x is only counted.
 */
export class Http1Connection {
	readonly stats: Http1ConnectionStats = {
		protocol: 'pending',
		outboundBytes: 0,
		inboundBytes: 0,
		exchanges: 0,
		unpairedResponses: 0,
		unansweredRequests: 0,
		parseErrors: 0,
		desyncs: 0,
		skippedBytes: 0,
	};
	#opts: Http1ConnectionOptions;
	#requestSide: Side | undefined;
	#requests: MessageParser | undefined;
	#responses: MessageParser | undefined;
	/** Requests whose head is parsed, oldest first; `done` once their last byte is parsed. */
	#pending: { head: MessageHead; startNs: bigint; done?: ParsedMessage }[] = [];
	#upgraded = false;

	constructor(opts: Http1ConnectionOptions) {
		this.#opts = opts;
	}

	get role(): 'client' | 'server' | undefined {
		if (this.#requestSide === undefined) return undefined;
		return this.#requestSide === 'outbound' ? 'client' : 'server';
	}

	push(side: Side, chunk: Chunk): void {
		if (side === 'outbound') this.stats.outboundBytes += chunk.length;
		else this.stats.inboundBytes += chunk.length;
		if (this.stats.protocol === 'pending') this.#detect(side, chunk);
		if (this.stats.protocol !== 'http1') return;
		(side === this.#requestSide ? this.#requests : this.#responses)?.push(chunk);
		this.#sumParserStats();
		// After an upgrade the bytes are another protocol: only counted from now on.
		if (this.#upgraded) this.stats.protocol = 'other';
	}

	/** The connection closed at `ns`: finishes a response that runs until close. */
	end(ns: bigint): void {
		this.#requests?.end(ns);
		this.#responses?.end(ns);
		this.stats.unansweredRequests += this.#pending.length;
		this.#pending = [];
		this.#sumParserStats();
	}

	#detect(side: Side, chunk: Chunk): void {
		if (looksLikeMessageStart(chunk.bytes, 'request')) this.#requestSide = side;
		else if (looksLikeMessageStart(chunk.bytes, 'response')) this.#requestSide = other(side);
		else {
			this.stats.protocol = 'other';
			return;
		}
		this.stats.protocol = 'http1';
		const maxBodyBytes = this.#opts.maxBodyBytes ?? 0;
		const maxPending = this.#opts.maxPending ?? 256;
		this.#requests = new MessageParser('request', {
			maxBodyBytes,
			onHead: (head, startNs) => {
				this.#pending.push({ head, startNs });
				if (this.#pending.length > maxPending) this.#pending.shift();
			},
			onMessage: (m) => {
				const p = this.#pending.find((r) => r.done === undefined);
				if (p) p.done = m;
			},
		});
		this.#responses = new MessageParser('response', {
			maxBodyBytes,
			bodiless: () => this.#pending[0]?.head.method === 'HEAD',
			onMessage: (m) => this.#onResponse(m),
			// The response in progress was lost; its request will get no other.
			onDesync: () => {
				if (this.#pending.shift()) this.stats.unansweredRequests++;
			},
		});
	}

	#onResponse(res: ParsedMessage): void {
		// 1xx are interim (100 Continue, 103 Early Hints): the final response follows.
		if (res.status !== undefined && res.status >= 100 && res.status < 200 && res.status !== 101) return;
		const req = this.#pending.shift();
		if (!req) {
			this.stats.unpairedResponses++;
			return;
		}
		// The request's body may still be streaming when the server answers (e.g. 413): use what is known.
		const request: ParsedMessage = req.done ?? {
			kind: 'request',
			...req.head,
			bytes: 0,
			bodyBytes: 0,
			bodyTruncated: true,
			startNs: req.startNs,
			endNs: res.startNs,
			endedBy: 'framing',
		};
		this.stats.exchanges++;
		const role = this.role ?? 'client';
		this.#opts.onExchange({ role, request, response: res, startNs: request.startNs, endNs: res.endNs });
		// After 101 Switching Protocols or a successful CONNECT, the bytes are another protocol.
		if (res.status === 101 || (request.method === 'CONNECT' && res.status !== undefined && res.status < 300)) {
			this.#upgraded = true;
		}
	}

	#sumParserStats(): void {
		const s = this.stats;
		s.parseErrors = 0;
		s.desyncs = 0;
		s.skippedBytes = 0;
		for (const p of [this.#requests, this.#responses]) {
			if (!p) continue;
			s.parseErrors += p.stats.parseErrors;
			s.desyncs += p.stats.desyncs;
			s.skippedBytes += p.stats.skippedBytes;
		}
	}
}
