import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Http1Connection, type Http1Exchange, type Side } from '@firesight/http1';
import { cutStream, cuts, flows, http1Streams, mutate, TOKENS, type Cut } from '@firesight/testing/http1-streams';
import fc from 'fast-check';
import type { Http1ConnEvent, Http1ExchangeData } from './http1-records.ts';
import { Http1Tracker } from './http1-tracker.ts';
import { RING_BUFFER_FRAME_ALIGN, RING_BUFFER_FRAME_SIZE } from './ring-buffer-records.ts';
import { TLS_CLOSE_EVENT_SIZE, TLS_CONN_EVENT_SIZE, TLS_DATA_EVENT_SIZE, TLS_PROC_EVENT_SIZE, type TlsEvent } from './tls-records.ts';

/**
 * The addon's HTTP/1 reassembly (http1-parser.h) against packages/http1, the JavaScript it
 * replaced and which stays the reference: the same byte streams, fed to both as the kernel's
 * records would carry them, must give the same exchanges, byte for byte, and the same counters.
 * Inputs are valid exchanges (Content-Length, chunked, until close, HEAD, 1xx, pipelined), then
 * the same mutated, truncated, cut into chunks anywhere, cut at every byte, with gaps of
 * uncaptured bytes, and random bytes.
 *
 * http-parser-js reads bytes as 'ascii', which clears the high bit; the streams compared here are
 * 7-bit so that the reference sees what was sent (the addon keeps bytes as they are, latin1).
 */
const RUNS = Number(process.env.FIRESIGHT_FUZZ_RUNS ?? 3000);

interface DataRecord {
	tgid: number;
	tid?: number;
	ssl: bigint;
	fd: number;
	gen: number;
	write: boolean;
	startNs: bigint;
	tsNs: bigint;
	/** Bytes the call moved; more than payload.length for a gap. */
	length: number;
	payload: Uint8Array;
	requestId?: number;
}

class TlsRecordBatch {
	#parts: Buffer[] = [];

	data(r: DataRecord): this {
		const b = Buffer.alloc(TLS_DATA_EVENT_SIZE + r.payload.length);
		b.writeBigUInt64LE(r.tsNs, 0);
		b.writeUInt32LE(1, 8);
		b.writeUInt32LE(r.tgid, 12);
		b.writeBigUInt64LE(r.startNs, 16);
		b.writeBigUInt64LE(r.ssl, 24);
		b.writeUInt32LE(r.tid ?? r.tgid, 32);
		b.writeUInt32LE(r.length, 36);
		b.writeUInt32LE(r.payload.length, 40);
		b.writeInt32LE(r.fd, 44);
		b.writeUInt32LE(r.gen, 48);
		b.writeUInt32LE(r.requestId ?? 0, 52);
		b.writeUInt8(r.write ? 1 : 0, 56);
		b.set(r.payload, TLS_DATA_EVENT_SIZE);
		return this.#push(b);
	}

	conn(r: { tsNs: bigint; tgid: number; ssl: bigint; fd: number; gen: number; lport?: number; rport?: number }): this {
		const b = Buffer.alloc(TLS_CONN_EVENT_SIZE);
		b.writeBigUInt64LE(r.tsNs, 0);
		b.writeUInt32LE(2, 8);
		b.writeUInt32LE(r.tgid, 12);
		b.writeBigUInt64LE(r.ssl, 16);
		b.writeInt32LE(r.fd, 24);
		b.writeUInt32LE(r.gen, 28);
		b.writeUInt16LE(2, 32); // AF_INET
		b.writeUInt16LE(r.lport ?? 443, 34);
		b.writeUInt16LE(r.rport ?? 50000, 36);
		b.set([127, 0, 0, 1], 40);
		b.set([127, 0, 0, 2], 56);
		return this.#push(b);
	}

	close(r: { tsNs: bigint; tgid: number; fd: number; gen: number }): this {
		const b = Buffer.alloc(TLS_CLOSE_EVENT_SIZE);
		b.writeBigUInt64LE(r.tsNs, 0);
		b.writeUInt32LE(3, 8);
		b.writeUInt32LE(r.tgid, 12);
		b.writeInt32LE(r.fd, 16);
		b.writeUInt32LE(r.gen, 20);
		return this.#push(b);
	}

	exit(r: { tsNs: bigint; tgid: number }): this {
		const b = Buffer.alloc(TLS_PROC_EVENT_SIZE);
		b.writeBigUInt64LE(r.tsNs, 0);
		b.writeUInt32LE(5, 8);
		b.writeUInt32LE(r.tgid, 12);
		b.write('server', 16, 'latin1');
		return this.#push(b);
	}

	get length(): number {
		return this.#parts.length;
	}

	/** The framed batch; the builder starts over. */
	take(): ArrayBuffer {
		const all = Buffer.concat(this.#parts);
		this.#parts = [];
		return all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
	}

	#push(rec: Buffer): this {
		const frame = Buffer.alloc(RING_BUFFER_FRAME_SIZE);
		frame.writeUInt32LE(rec.length, 0);
		const pad = (RING_BUFFER_FRAME_ALIGN - (rec.length % RING_BUFFER_FRAME_ALIGN)) % RING_BUFFER_FRAME_ALIGN;
		this.#parts.push(frame, rec, Buffer.alloc(pad));
		return this;
	}
}

const TGID = 4242;
const SSL = 0x7f00_1234_5000n;
const FD = 9;
const GEN = 2;

interface Piece {
	side: Side;
	bytes: Uint8Array;
	/** Bytes that went by: bytes.length plus a gap. */
	length: number;
	startNs: bigint;
	tsNs: bigint;
}

interface Outcome {
	exchanges: Http1ExchangeData[];
	summary: Pick<Http1ConnEvent, 'protocol' | 'role' | 'bytesOut' | 'bytesIn' | 'requests'>;
	counters: { parseErrors: number; desyncs: number; skippedBytes: number; unpairedResponses: number; unansweredRequests: number };
}

/** packages/http1, fed as the collector's JavaScript tracker fed it (a read starts when it returns). */
function reference(pieces: readonly Piece[], endNs: bigint, maxBodyBytes: number): Outcome {
	const exchanges: Http1Exchange[] = [];
	const conn = new Http1Connection({ maxBodyBytes, onExchange: (e) => exchanges.push(e) });
	for (const p of pieces) {
		conn.push(p.side, {
			bytes: p.bytes,
			length: p.length,
			firstNs: p.side === 'outbound' ? p.startNs : p.tsNs,
			lastNs: p.tsNs,
		});
	}
	conn.end(endNs);
	const s = conn.stats;
	return {
		exchanges,
		summary: {
			protocol: s.protocol,
			role: conn.role ?? null,
			bytesOut: s.outboundBytes,
			bytesIn: s.inboundBytes,
			requests: s.exchanges,
		},
		counters: {
			parseErrors: s.parseErrors,
			desyncs: s.desyncs,
			skippedBytes: s.skippedBytes,
			unpairedResponses: s.unpairedResponses,
			unansweredRequests: s.unansweredRequests,
		},
	};
}

/** The addon: the same pieces as tls data records of one connection, then the socket's close. */
function native(pieces: readonly Piece[], endNs: bigint, maxBodyBytes: number, split = false): Outcome | undefined {
	const tracker = new Http1Tracker({ maxBodyBytes });
	if (maxBodyBytes > 0) tracker.setCaptureBodies(TGID, true);
	const batch = new TlsRecordBatch();
	const events: TlsEvent[] = [];
	for (const p of pieces) {
		batch.data({
			tgid: TGID,
			ssl: SSL,
			fd: FD,
			gen: GEN,
			write: p.side === 'outbound',
			startNs: p.startNs,
			tsNs: p.tsNs,
			length: p.length,
			payload: p.bytes,
		});
		// Some runs hand the records over one batch each, as a busy ring buffer would.
		if (split) events.push(...tracker.handle(batch.take()));
	}
	batch.close({ tsNs: endNs, tgid: TGID, fd: FD, gen: GEN });
	events.push(...tracker.handle(batch.take()));
	const ends = events.filter((e): e is Http1ConnEvent => e.type === 'connEnd');
	// No record, no connection: nothing to compare.
	if (pieces.length === 0) {
		assert.equal(events.length, 0);
		return undefined;
	}
	assert.equal(ends.length, 1, 'one connection, ended once');
	const end = ends[0]!;
	assert.equal(end.tsNs, endNs);
	const stats = tracker.stats();
	assert.equal(stats.open, 0);
	assert.equal(stats.closed, 1);
	// The connection's own count of what was lost is the tracker's, as it was the only connection.
	assert.equal(end.losses, stats.parseErrors + stats.desyncs + stats.unpairedResponses + stats.pendingDropped);
	return {
		exchanges: events.flatMap((e) => {
			if (e.type !== 'exchange') return [];
			assert.equal(e.tgid, TGID);
			assert.equal(e.ssl, Number(SSL));
			assert.equal(e.fd, FD);
			assert.equal(e.gen, GEN);
			return [e.exchange];
		}),
		summary: { protocol: end.protocol, role: end.role, bytesOut: end.bytesOut, bytesIn: end.bytesIn, requests: end.requests },
		counters: {
			parseErrors: stats.parseErrors,
			desyncs: stats.desyncs,
			skippedBytes: stats.skippedBytes,
			unpairedResponses: stats.unpairedResponses,
			unansweredRequests: stats.unansweredRequests,
		},
	};
}

function same(pieces: readonly Piece[], maxBodyBytes: number, split = false): Outcome {
	const endNs = (clock += 5n);
	const want = reference(pieces, endNs, maxBodyBytes);
	const got = native(pieces, endNs, maxBodyBytes, split) ?? want;
	assert.deepStrictEqual(got, want);
	return got;
}

const { message, mutation } = http1Streams('ascii');

let clock = 1_000_000n;
function piecesOf(side: Side, bytes: Uint8Array, at: readonly Cut[]): Piece[] {
	return cutStream(bytes, at).map((c) => {
		const startNs = (clock += 7n);
		return { side, ...c, startNs, tsNs: (clock += 3n) };
	});
}

/** Requests and responses interleaved the way a client and a server take turns, in order. */
function interleave(a: readonly Piece[], b: readonly Piece[], order: readonly boolean[]): Piece[] {
	const out: Piece[] = [];
	let i = 0;
	let j = 0;
	let k = 0;
	while (i < a.length || j < b.length) {
		const takeA = j >= b.length || (i < a.length && (order[k++ % Math.max(1, order.length)] ?? true));
		out.push(takeA ? a[i++]! : b[j++]!);
	}
	return out;
}

const maxBody = fc.constantFrom(0, 1, 16, 4096);

test('valid exchanges, cut anywhere, pipelined or in turn: the same exchanges as packages/http1', () => {
	let exchanges = 0;
	fc.assert(
		fc.property(
			fc.array(fc.tuple(message('request'), message('response')), { minLength: 1, maxLength: 5 }),
			cuts,
			cuts,
			fc.array(fc.boolean(), { maxLength: 10 }),
			maxBody,
			fc.boolean(),
			(pairs, requestCuts, responseCuts, order, maxBodyBytes, split) => {
				const requests = piecesOf('outbound', Buffer.concat(pairs.map(([rq]) => rq)), requestCuts);
				const responses = piecesOf('inbound', Buffer.concat(pairs.map(([, rs]) => rs)), responseCuts);
				exchanges += same(interleave(requests, responses, order), maxBodyBytes, split).exchanges.length;
			},
		),
		{ numRuns: RUNS },
	);
	// The control: without it, agreeing on nothing would pass.
	assert.ok(exchanges > RUNS / 10, `${exchanges} exchanges in ${RUNS} runs`);
});

test('mutated, truncated and with gaps, either side first: the same exchanges and counters', () => {
	fc.assert(
		fc.property(
			fc.array(fc.tuple(message('request'), message('response')), { minLength: 1, maxLength: 4 }),
			fc.array(mutation, { maxLength: 4 }),
			fc.array(mutation, { maxLength: 2 }),
			fc.nat(),
			cuts,
			cuts,
			fc.array(fc.boolean(), { maxLength: 10 }),
			maxBody,
			fc.boolean(),
			(pairs, reqMutations, resMutations, truncateAt, requestCuts, responseCuts, order, maxBodyBytes, serverFirst) => {
				const rq = mutate(Buffer.concat(pairs.map(([r]) => r)), reqMutations);
				let rs = mutate(Buffer.concat(pairs.map(([, r]) => r)), resMutations);
				rs = rs.subarray(0, rs.length ? (truncateAt % rs.length) + 1 : 0);
				// The observed process may be the server: requests come in, responses go out.
				const reqSide: Side = serverFirst ? 'inbound' : 'outbound';
				const resSide: Side = serverFirst ? 'outbound' : 'inbound';
				same(interleave(piecesOf(reqSide, rq, requestCuts), piecesOf(resSide, rs, responseCuts), order), maxBodyBytes);
			},
		),
		{ numRuns: RUNS },
	);
});

test('random bytes in either direction: the same counters, nothing thrown', () => {
	fc.assert(
		fc.property(
			flows(
				fc.oneof(
					fc.uint8Array({ maxLength: 600 }).map((b) => b.map((x) => x & 0x7f)),
					fc.array(fc.constantFrom(...TOKENS), { maxLength: 8 }).map((t) => new Uint8Array(Buffer.concat(t))),
				),
			),
			maxBody,
			(flows, maxBodyBytes) => {
				same(
					flows.flatMap((f) => piecesOf(f.side, f.bytes, f.cuts)),
					maxBodyBytes,
				);
			},
		),
		{ numRuns: RUNS },
	);
});

test('split at every byte: pipelined requests, chunked and until-close responses are the same exchanges', () => {
	fc.assert(
		fc.property(
			fc.array(fc.tuple(message('request'), message('response')), { minLength: 1, maxLength: 3 }),
			maxBody,
			(pairs, maxBodyBytes) => {
				const rq = Buffer.concat(pairs.map(([r]) => r));
				const rs = Buffer.concat(pairs.map(([, r]) => r));
				const upgrades = /CONNECT|upgrade|^HTTP\/1\.[01] 101 /im.test(Buffer.concat([rq, rs]).toString('latin1'));
				const whole = same([...piecesOf('outbound', rq, []), ...piecesOf('inbound', rs, [])], maxBodyBytes);
				for (let i = 1; i < Math.max(rq.length, rs.length); i++) {
					const at = [{ at: i, gap: 0 }];
					const got = same(
						[...piecesOf('outbound', rq, i < rq.length ? at : []), ...piecesOf('inbound', rs, i < rs.length ? at : [])],
						maxBodyBytes,
					);
					// Cutting without a gap changes when bytes arrived, never what was said, once the
					// first chunk of each side holds its whole start line (what detection looks at).
					// A stream out of step resynchronizes at the next chunk, which depends on the cuts.
					// An upgrade (CONNECT, Upgrade, a 101 answer) stops parsing the rest of its chunk.
					if (i <= rq.indexOf(10) || i <= rs.indexOf(10) || whole.counters.desyncs > 0 || upgrades) continue;
					assert.deepEqual(
						got.exchanges.map((e) => [e.request.method, e.request.url, e.response.status, e.request.bytes, e.response.bytes]),
						whole.exchanges.map((e) => [e.request.method, e.request.url, e.response.status, e.request.bytes, e.response.bytes]),
					);
				}
			},
		),
		{ numRuns: 150, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {}) },
	);
});

test('the limits hold: heads past 80 KiB are parse errors, bodies are kept up to the limit, 256 requests wait at most', () => {
	// A head still unfinished past the limit (http-parser-js checks after each chunk).
	const big = Buffer.from(`GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(90 * 1024)}\r\n`, 'latin1');
	const out = same(
		piecesOf('outbound', big, [
			{ at: 16_000, gap: 0 },
			{ at: 40_000, gap: 0 },
			{ at: 70_000, gap: 0 },
		]),
		0,
	);
	assert.equal(out.counters.parseErrors, 1);
	const bodyBytes = Buffer.alloc(10_000, 'b');
	const rq = Buffer.from('POST /up HTTP/1.1\r\nContent-Length: 10000\r\n\r\n', 'latin1');
	const rs = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'latin1');
	const kept = same([...piecesOf('outbound', Buffer.concat([rq, bodyBytes]), []), ...piecesOf('inbound', rs, [])], 4096);
	assert.equal(kept.exchanges[0]!.request.body!.length, 4096);
	assert.equal(kept.exchanges[0]!.request.bodyBytes, 10_000);
	assert.equal(kept.exchanges[0]!.request.bodyTruncated, true);
	// A gap that ends a body (a 1 MiB response captured 16 KiB per call) is no parse error.
	const head = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n', 'latin1');
	const gap = same(
		[
			...piecesOf('outbound', Buffer.from('GET /big HTTP/1.1\r\n\r\n', 'latin1'), []),
			{ side: 'inbound', bytes: head, length: head.length + 1_000_000, startNs: (clock += 1n), tsNs: (clock += 1n) },
		],
		16,
	);
	assert.deepEqual(gap.counters, { parseErrors: 0, desyncs: 0, skippedBytes: 0, unpairedResponses: 0, unansweredRequests: 0 });
	assert.equal(gap.exchanges[0]!.response.bodyBytes, 1_000_000);
	assert.equal(gap.exchanges[0]!.response.bodyTruncated, true);
	const many = Buffer.from('GET /p HTTP/1.1\r\n\r\n'.repeat(300), 'latin1');
	const pending = same(piecesOf('outbound', many, []), 0);
	assert.equal(pending.counters.unansweredRequests, 256);
	const tracker = new Http1Tracker();
	const stats = (() => {
		const b = new TlsRecordBatch().data({
			tgid: 1,
			ssl: 1n,
			fd: 3,
			gen: 0,
			write: true,
			startNs: 1n,
			tsNs: 2n,
			length: many.length,
			payload: many,
		});
		tracker.handle(b.take());
		return tracker.stats();
	})();
	assert.equal(stats.pendingDropped, 300 - 256);
});

test('bytes of any value, 8-bit included: nothing thrown, bodies within the limit, every connection ended', () => {
	fc.assert(
		fc.property(
			flows(
				fc.oneof(
					fc.uint8Array({ maxLength: 600 }),
					fc.tuple(message('request'), fc.uint8Array({ maxLength: 40 })).map(([m, junk]) => new Uint8Array(Buffer.concat([m, junk]))),
				),
				1,
			),
			maxBody,
			(flows, maxBodyBytes) => {
				const out = native(
					flows.flatMap((f) => piecesOf(f.side, f.bytes, f.cuts)),
					(clock += 5n),
					maxBodyBytes,
				)!;
				for (const e of out.exchanges) {
					for (const m of [e.request, e.response]) {
						assert.ok((m.body?.length ?? 0) <= maxBodyBytes);
						assert.ok(m.startNs <= m.endNs);
					}
				}
				assert.equal(out.summary.requests, out.exchanges.length);
			},
		),
		{ numRuns: RUNS },
	);
});

/** A tracker and the events one batch gives, by type. */
function run(tracker: Http1Tracker, batch: TlsRecordBatch): TlsEvent[] {
	return tracker.handle(batch.take());
}

const GET = Buffer.from('GET /users/7?q=1 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer x\r\n\r\n', 'latin1');
const OK = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello', 'latin1');

function exchangeOn(
	b: TlsRecordBatch,
	at: bigint,
	conn: { tgid?: number; ssl?: bigint; fd?: number; gen?: number } = {},
	requestId = 0,
): TlsRecordBatch {
	const c = { tgid: TGID, ssl: SSL, fd: FD, gen: GEN, ...conn };
	return b
		.data({ ...c, write: false, startNs: at, tsNs: at + 1n, length: GET.length, payload: GET, requestId, tid: c.tgid + 1 })
		.data({ ...c, write: true, startNs: at + 2n, tsNs: at + 3n, length: OK.length, payload: OK });
}

test('a read the kernel gave a request id hands on its request line first; the exchange follows with its socket', () => {
	const tracker = new Http1Tracker();
	const events = run(tracker, exchangeOn(new TlsRecordBatch(), 100n, {}, 77));
	assert.deepEqual(
		events.map((e) => e.type),
		['requestStart', 'exchange'],
	);
	assert.deepEqual(events[0], {
		type: 'requestStart',
		tsNs: 101n,
		tgid: TGID,
		tid: TGID + 1,
		requestId: 77,
		line: 'GET /users/7?q=1 HTTP/1.1',
	});
	const ex = events[1]!;
	assert.ok(ex.type === 'exchange');
	assert.equal(ex.exchange.role, 'server');
	assert.deepEqual(ex.exchange.request.headers, [
		['Host', 'a'],
		['Authorization', 'Bearer x'],
	]);
	assert.equal(ex.exchange.response.status, 200);
	assert.equal(ex.exchange.startNs, 101n, 'a read starts when it returns');
	assert.equal(ex.exchange.endNs, 103n);
	assert.equal(ex.exchange.response.body, undefined, 'no body unless asked for');
	// No line end in what was read: no line.
	const partial = run(
		tracker,
		new TlsRecordBatch().data({
			tgid: 1,
			ssl: 1n,
			fd: 3,
			gen: 0,
			write: false,
			startNs: 1n,
			tsNs: 2n,
			length: 5,
			payload: Buffer.from('GET /'),
			requestId: 5,
		}),
	);
	assert.deepEqual(partial[0], { type: 'requestStart', tsNs: 2n, tgid: 1, tid: 1, requestId: 5, line: null });
});

test('an exchange carries the request id of the read its request began with: once, and not a later request of that read', () => {
	const tracker = new Http1Tracker();
	const ids = (events: TlsEvent[]) => events.flatMap((e) => (e.type === 'exchange' ? [e.requestId] : []));
	assert.deepEqual(ids(run(tracker, exchangeOn(new TlsRecordBatch(), 100n, {}, 77))), [77]);
	assert.deepEqual(ids(run(tracker, exchangeOn(new TlsRecordBatch(), 200n))), [0], 'a read without an id');
	// Two requests in one read, answered in one write: the id is the first's.
	const two = Buffer.concat([GET, GET]);
	const answers = Buffer.concat([OK, OK]);
	const c = { tgid: TGID, ssl: SSL, fd: FD, gen: GEN };
	const pipelined = new TlsRecordBatch()
		.data({ ...c, write: false, startNs: 300n, tsNs: 301n, length: two.length, payload: two, requestId: 78, tid: 9 })
		.data({ ...c, write: true, startNs: 302n, tsNs: 303n, length: answers.length, payload: answers });
	assert.deepEqual(ids(run(tracker, pipelined)), [78, 0]);
	// A read with an id that began no request (here the body of one) is not the next request's.
	const post = Buffer.from('POST /p HTTP/1.1\r\nContent-Length: 4\r\n\r\n', 'latin1');
	const split = new TlsRecordBatch()
		.data({ ...c, write: false, startNs: 400n, tsNs: 401n, length: post.length, payload: post, requestId: 79, tid: 9 })
		.data({ ...c, write: false, startNs: 402n, tsNs: 403n, length: 4, payload: Buffer.from('body'), requestId: 80, tid: 9 })
		.data({ ...c, write: true, startNs: 404n, tsNs: 405n, length: OK.length, payload: OK });
	assert.deepEqual(ids(run(tracker, split)), [79]);
	assert.deepEqual(ids(run(tracker, exchangeOn(new TlsRecordBatch(), 500n, {}, 81))), [81]);
	assert.deepEqual(ids(run(tracker, exchangeOn(new TlsRecordBatch(), 600n))), [0]);
});

test('connections: bound by their conn record, ended by close, exit, reuse of the SSL address, the cap and idleness', () => {
	const tracker = new Http1Tracker({ maxConnections: 2 });
	// Not bound yet (fd -1), then bound: the exchange after carries the socket.
	let events = run(
		tracker,
		exchangeOn(new TlsRecordBatch(), 100n, { fd: -1 }).conn({ tsNs: 105n, tgid: TGID, ssl: SSL, fd: FD, gen: GEN }),
	);
	assert.deepEqual(
		events.map((e) => [e.type, 'fd' in e ? e.fd : null]),
		[
			['exchange', -1],
			['conn', FD],
		],
	);
	events = run(tracker, exchangeOn(new TlsRecordBatch(), 200n));
	assert.deepEqual(
		events.map((e) => (e.type === 'exchange' ? [e.fd, e.gen] : e.type)),
		[[FD, GEN]],
	);
	// The SSL address on another socket: the old connection ends before the new conn record goes on.
	events = run(tracker, new TlsRecordBatch().conn({ tsNs: 300n, tgid: TGID, ssl: SSL, fd: FD + 1, gen: 0 }));
	assert.deepEqual(
		events.map((e) => e.type),
		['connEnd', 'conn'],
	);
	const reused = events[0] as Http1ConnEvent;
	assert.deepEqual([reused.fd, reused.requests, reused.protocol, reused.role, reused.tsNs], [FD, 2, 'http1', 'server', 203n]);
	// A close of another socket ends nothing; of this one, it ends it.
	assert.deepEqual(run(tracker, new TlsRecordBatch().close({ tsNs: 310n, tgid: TGID, fd: FD, gen: GEN })), []);
	events = run(tracker, new TlsRecordBatch().close({ tsNs: 311n, tgid: TGID, fd: FD + 1, gen: 0 }));
	assert.deepEqual(
		events.map((e) => e.type),
		['connEnd'],
	);
	// Three connections with a cap of two: the least recently active is ended (evicted).
	events = run(
		tracker,
		exchangeOn(exchangeOn(exchangeOn(new TlsRecordBatch(), 400n, { ssl: 1n, fd: 20 }), 500n, { ssl: 2n, fd: 21 }), 600n, {
			ssl: 3n,
			fd: 22,
		}),
	);
	assert.deepEqual(
		events.filter((e) => e.type === 'connEnd').map((e) => (e as Http1ConnEvent).ssl),
		[1],
	);
	assert.equal(tracker.stats().evicted, 1);
	assert.deepEqual(
		tracker
			.connections()
			.map((c) => [c.type, c.ssl, c.requests])
			.sort(),
		[
			['connOpen', 2, 1],
			['connOpen', 3, 1],
		],
	);
	// Idle since before 650: only the one last active at 503.
	events = tracker.evictIdle(600n);
	assert.deepEqual(
		events.map((e) => (e as Http1ConnEvent).ssl),
		[2],
	);
	assert.equal(tracker.stats().evicted, 2);
	// The process exits: its connections end, then the exit record goes on.
	events = run(tracker, new TlsRecordBatch().exit({ tsNs: 700n, tgid: TGID }));
	assert.deepEqual(
		events.map((e) => e.type),
		['connEnd', 'exit'],
	);
	const stats = tracker.stats();
	assert.deepEqual([stats.open, stats.closed, stats.exchanges, stats.unboundSeen], [0, 5, 5, 0]);
});

test('bodies are kept for the processes asked for, from their next connection; a response until close ends with it', () => {
	const tracker = new Http1Tracker({ maxBodyBytes: 3 });
	tracker.setCaptureBodies(TGID, true);
	let events = run(tracker, exchangeOn(new TlsRecordBatch(), 100n));
	const ex = events[0]!;
	assert.ok(ex.type === 'exchange');
	assert.deepEqual(Buffer.from(ex.exchange.response.body!).toString(), 'hel');
	assert.equal(ex.exchange.response.bodyTruncated, true);
	assert.deepEqual(ex.exchange.request.body, new Uint8Array(0));
	const untilClose = Buffer.from('HTTP/1.0 200 OK\r\n\r\nstreamed', 'latin1');
	tracker.setCaptureBodies(TGID, false);
	events = run(
		tracker,
		new TlsRecordBatch()
			.data({ tgid: TGID, ssl: 9n, fd: 30, gen: 0, write: true, startNs: 200n, tsNs: 201n, length: GET.length, payload: GET })
			.data({
				tgid: TGID,
				ssl: 9n,
				fd: 30,
				gen: 0,
				write: false,
				startNs: 202n,
				tsNs: 203n,
				length: untilClose.length,
				payload: untilClose,
			})
			.close({ tsNs: 250n, tgid: TGID, fd: 30, gen: 0 }),
	);
	assert.deepEqual(
		events.map((e) => e.type),
		['exchange', 'connEnd'],
	);
	const eof = events[0]!;
	assert.ok(eof.type === 'exchange');
	assert.deepEqual(
		[eof.exchange.role, eof.exchange.response.endedBy, eof.exchange.response.bodyBytes, eof.exchange.endNs],
		['client', 'eof', 8, 250n],
	);
	assert.equal(eof.exchange.response.body, undefined);
	// Never bound to a socket: counted when it ends.
	run(tracker, exchangeOn(new TlsRecordBatch(), 300n, { ssl: 10n, fd: -1 }));
	tracker.endAll(400n);
	assert.equal(tracker.stats().unboundSeen, 1);
});
