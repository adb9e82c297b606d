import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cutStream, cuts, flows, http1Streams, mutate, type Cut } from '@firesight/testing/http1-streams';
import fc from 'fast-check';
import { Http1Connection, type Http1Exchange, type Side } from './http1-connection.ts';
import { MessageParser, type Chunk, type ParsedMessage } from './message-parser.ts';

/**
 * Captured streams are whatever a process wrote: the parser must count what it cannot read, never
 * throw, keep no more body than asked, and finish in time linear in its input. Inputs are random
 * bytes, valid exchanges mutated (flipped, inserted, deleted bytes), truncated, cut into chunks at
 * random points, and chunks whose tail went by uncaptured (a gap).
 */
const RUNS = 2000;

const { token, headerValue, path, body, message, mutation } = http1Streams('any');

let clock = 0n;
function chunksOf(bytes: Uint8Array, at: readonly Cut[]): Chunk[] {
	return cutStream(bytes, at).map((c) => {
		const firstNs = (clock += 7n);
		return { ...c, firstNs, lastNs: (clock += 3n) };
	});
}

/** A message's fields as the types promise them, whatever the input. */
function checkMessage(m: ParsedMessage, maxBodyBytes: number, pushed: number): void {
	assert.ok(m.bytes >= 0 && m.bodyBytes >= 0, `sizes ${m.bytes}, ${m.bodyBytes}`);
	if (m.body !== undefined) {
		assert.ok(m.body.length <= maxBodyBytes, `kept ${m.body.length} body bytes, limit ${maxBodyBytes}`);
		assert.ok(m.body.length <= m.bodyBytes, `kept ${m.body.length} of ${m.bodyBytes} body bytes`);
	} else {
		// A request answered before its body was parsed is reported with what is known: truncated.
		assert.ok(maxBodyBytes === 0 || m.bodyTruncated, 'a body is kept when asked for');
	}
	assert.ok(Number.isSafeInteger(m.bytes) && Number.isSafeInteger(m.bodyBytes), `sizes ${m.bytes}, ${m.bodyBytes}`);
	assert.ok(m.startNs <= m.endNs, `message ends (${m.endNs}) before it starts (${m.startNs})`);
	assert.ok(Array.isArray(m.headers));
	assert.ok(m.bodyBytes <= pushed, `${m.bodyBytes} body bytes from ${pushed} bytes that went by`);
}

/** Feeds both directions, interleaved, and checks every exchange and the counters. */
function runConnection(
	flows: { side: Side; bytes: Uint8Array; cuts: { at: number; gap: number }[] }[],
	opts: { maxBodyBytes: number; maxPending: number },
): void {
	const exchanges: Http1Exchange[] = [];
	const conn = new Http1Connection({ ...opts, onExchange: (e) => exchanges.push(e) });
	let pushed = 0;
	for (const f of flows) {
		for (const c of chunksOf(f.bytes, f.cuts)) {
			pushed += c.length;
			conn.push(f.side, c);
		}
	}
	conn.end((clock += 1n));
	const s = conn.stats;
	assert.equal(s.outboundBytes + s.inboundBytes, pushed);
	assert.equal(s.exchanges, exchanges.length);
	for (const n of [s.unpairedResponses, s.unansweredRequests, s.parseErrors, s.desyncs, s.skippedBytes]) {
		assert.ok(Number.isInteger(n) && n >= 0, `counter ${n}`);
	}
	for (const e of exchanges) {
		checkMessage(e.request, opts.maxBodyBytes, pushed);
		checkMessage(e.response, opts.maxBodyBytes, pushed);
		assert.equal(e.request.kind, 'request');
		assert.equal(e.response.kind, 'response');
	}
	// Requests left unanswered are bounded by the pipelining limit, per flow of requests pushed.
	assert.ok(s.unansweredRequests <= opts.maxPending * flows.length + s.desyncs, `${s.unansweredRequests} unanswered`);
}

const options = fc.record({ maxBodyBytes: fc.constantFrom(0, 1, 16, 4096), maxPending: fc.integer({ min: 1, max: 8 }) });

test('random bytes in either direction: counted, never thrown', () => {
	fc.assert(
		fc.property(flows(fc.uint8Array({ maxLength: 600 })), options, (flows, opts) => runConnection(flows, opts)),
		{ numRuns: RUNS },
	);
});

test('valid exchanges, mutated, truncated and cut with gaps: counted, never thrown, bodies within the limit', () => {
	fc.assert(
		fc.property(
			fc.array(fc.tuple(message('request'), message('response')), { minLength: 1, maxLength: 5 }),
			fc.array(mutation, { maxLength: 4 }),
			fc.nat(),
			cuts,
			cuts,
			options,
			(pairs, mutations, truncateAt, requestCuts, responseCuts, opts) => {
				const requests = mutate(Buffer.concat(pairs.map(([rq]) => rq)), mutations);
				let responses: Uint8Array = Buffer.concat(pairs.map(([, rs]) => rs));
				responses = responses.subarray(0, responses.length ? (truncateAt % responses.length) + 1 : 0);
				runConnection(
					[
						{ side: 'outbound', bytes: requests, cuts: requestCuts },
						{ side: 'inbound', bytes: responses, cuts: responseCuts },
					],
					opts,
				);
			},
		),
		{ numRuns: RUNS },
	);
});

test('the control: plain framed exchanges, unbroken, pair every request with its response', () => {
	// Without this, the properties above would also hold for a parser that parses nothing.
	const plain = (kind: 'request' | 'response') =>
		fc
			.tuple(fc.constantFrom('GET', 'POST', 'PUT'), path, fc.array(fc.tuple(token, headerValue), { maxLength: 4 }), body)
			.map(([method, p, headers, b]) => {
				const start = kind === 'request' ? `${method} ${p} HTTP/1.1` : 'HTTP/1.1 200 OK';
				const lines = headers.map(([k, v]) => `X-${k}: ${v}\r\n`).join('');
				return Buffer.concat([Buffer.from(`${start}\r\n${lines}Content-Length: ${b.length}\r\n\r\n`, 'latin1'), Buffer.from(b)]);
			});
	fc.assert(
		fc.property(fc.array(fc.tuple(plain('request'), plain('response')), { minLength: 1, maxLength: 5 }), cuts, (pairs, at) => {
			const exchanges: Http1Exchange[] = [];
			const conn = new Http1Connection({ maxBodyBytes: 1 << 20, onExchange: (e) => exchanges.push(e) });
			for (const [rq, rs] of pairs) {
				conn.push('outbound', { bytes: rq, length: rq.length, firstNs: (clock += 1n), lastNs: (clock += 1n) });
				// Cut without gaps: a response in pieces is still one response.
				for (const c of chunksOf(
					rs,
					at.map((x) => ({ ...x, gap: 0 })),
				))
					conn.push('inbound', c);
			}
			assert.equal(conn.stats.parseErrors, 0);
			assert.equal(exchanges.length, pairs.length);
			exchanges.forEach((e, i) => {
				const [rq, rs] = pairs[i]!;
				assert.equal(e.request.bytes, rq.length);
				assert.equal(e.response.bytes, rs.length);
				assert.equal(Buffer.from(e.response.body!).toString('latin1'), rs.toString('latin1').split('\r\n\r\n').slice(1).join('\r\n\r\n'));
			});
		}),
		{ numRuns: 300 },
	);
});

test('one direction alone, any bytes and gaps: every message within the body limit', () => {
	fc.assert(
		fc.property(
			fc.constantFrom<'request' | 'response'>('request', 'response'),
			fc.array(
				fc.oneof(
					message('request'),
					message('response'),
					fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
				),
				{
					maxLength: 5,
				},
			),
			fc.array(mutation, { maxLength: 3 }),
			cuts,
			fc.constantFrom(0, 8, 100),
			(kind, parts, mutations, at, maxBodyBytes) => {
				const bytes = mutate(Buffer.concat(parts), mutations);
				const messages: ParsedMessage[] = [];
				const parser = new MessageParser(kind, { maxBodyBytes, onMessage: (m) => messages.push(m) });
				let pushed = 0;
				for (const c of chunksOf(bytes, at)) {
					pushed += c.length;
					parser.push(c);
				}
				parser.end((clock += 1n));
				for (const m of messages) {
					assert.equal(m.kind, kind);
					checkMessage(m, maxBodyBytes, pushed);
				}
				assert.equal(parser.stats.messages, messages.length);
				assert.ok(parser.stats.skippedBytes >= 0);
			},
		),
		{ numRuns: RUNS },
	);
});

test('what the fuzzer found stays fixed: sizes no sender could mean, and a body until close after a pipelined answer', () => {
	const parse = (text: string) => {
		const messages: ParsedMessage[] = [];
		const parser = new MessageParser('response', { onMessage: (m) => messages.push(m) });
		const bytes = Buffer.from(text, 'latin1');
		parser.push({ bytes, length: bytes.length, firstNs: 1n, lastNs: 2n });
		parser.end(3n);
		return { messages, stats: parser.stats };
	};
	// http-parser-js steps back by a negative length and parses the same bytes forever.
	// ... and takes `1e-2` as a hundredth of a byte, which made the skipped bytes a fraction.
	for (const size of ['Content-Length: -3', 'Transfer-Encoding: chunked\r\n\r\n-5', 'Content-Length: \x004', 'Content-Length: 1e-2']) {
		const { messages, stats } = parse(`HTTP/1.1 200 OK\r\n${size}\r\n\r\nabcdefgh\r\n0\r\n\r\n`);
		assert.deepEqual(messages, [], size);
		assert.equal(stats.parseErrors, 1, size);
		assert.ok(Number.isInteger(stats.skippedBytes), `${size}: ${stats.skippedBytes} bytes skipped`);
	}
	const first = 'HTTP/1.0 200 X\r\nContent-Length: 0\r\n\r\n';
	const { messages } = parse(`${first}HTTP/1.0 200 X\r\n\r\nuntil close`);
	assert.deepEqual(
		messages.map((m) => [m.bytes, m.bodyBytes, m.endedBy]),
		[
			[first.length, 0, 'framing'],
			['HTTP/1.0 200 X\r\n\r\nuntil close'.length, 'until close'.length, 'eof'],
		],
	);
});
