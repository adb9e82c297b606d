import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goldenMain, toArrayBuffer } from '@firesight/testing/golden-c';
import fc from 'fast-check';
import {
	decodeHttp1Event,
	decodeExchangeRecordAt,
	decodeHttp1ExchangeRecord,
	decodeHttp1Stats,
	HTTP1_CONN_RECORD_SIZE,
	HTTP1_EXCHANGE_RECORD_SIZE,
	HTTP1_HEADER_KEYS,
	HTTP1_HEADER_SIZE,
	HTTP1_REQUEST_START_RECORD_SIZE,
	HTTP1_STATS,
	HeaderNames,
} from './http1-records.ts';
import { ringBufferRecords } from './ring-buffer-records.ts';
import { decodeTlsEvent } from './tls-records.ts';

/** Compiles a main() against native/src/http1-records.h: the golden bytes come from the C compiler. */
const cBytes = (body: string) => goldenMain('http1-records.h', body);

const view = (b: Buffer) => new DataView(b.buffer, b.byteOffset, b.byteLength);

test('struct sizes and the stats count match the C header', () => {
	const sizes = cBytes(`unsigned s[6] = {sizeof(struct http1_exchange_record), sizeof(struct http1_conn_record),
		sizeof(struct http1_request_start_record), HTTP1_STAT_MAX, sizeof(struct http1_header), HTTP1_HEADER_KEYS};
		dump(s, sizeof(s));`);
	assert.deepEqual(
		[0, 1, 2, 3, 4, 5].map((i) => sizes.readUInt32LE(i * 4)),
		[
			HTTP1_EXCHANGE_RECORD_SIZE,
			HTTP1_CONN_RECORD_SIZE,
			HTTP1_REQUEST_START_RECORD_SIZE,
			HTTP1_STATS.length,
			HTTP1_HEADER_SIZE,
			HTTP1_HEADER_KEYS,
		],
	);
});

test('an exchange record with its strings, headers and bodies decodes field by field, through the tls decoder too', () => {
	const bytes = cBytes(`
		unsigned char tail[256], *t = tail;
		#define PUT(s) (memcpy(t, s, sizeof(s) - 1), t += sizeof(s) - 1)
		#define HEADER(key, pair, n, v) do { struct http1_header h = {key, pair, sizeof(n) - 1, sizeof(v) - 1}; \\
			memcpy(t, &h, sizeof(h)); t += sizeof(h); PUT(n); PUT(v); } while (0)
		PUT("POST"); PUT("/a?b=1"); PUT("Created");
		HEADER(1, 5, "Host", "h"); HEADER(2, 6, "X-", ""); HEADER(0, 0, "Set", "\\xe9t\\xe9");
		PUT("in"); PUT("out");
		unsigned char buf[sizeof(struct http1_exchange_record) + 256];
		struct http1_exchange_record *r = (void *)buf;
		memset(buf, 0, sizeof(buf));
		r->ts_ns = 5000; r->type = HTTP1_EV_EXCHANGE; r->tgid = 4242; r->ssl = 0x7f00deadbeefULL;
		r->req_start_ns = 1000; r->req_end_ns = 2000; r->res_start_ns = 3000;
		r->req_bytes = 70; r->res_bytes = 0x100000001ULL; r->req_body_bytes = 2; r->res_body_bytes = 9;
		r->fd = -1; r->gen = 7; r->url_len = 6; r->status_text_len = 7;
		r->req_header_count = 2; r->res_header_count = 1; r->req_body_len = 2; r->res_body_len = 3;
		r->status = 201; r->method_len = 4;
		r->flags = HTTP1_REQ_KEEP_ALIVE | HTTP1_RES_UPGRADE | HTTP1_REQ_HAS_BODY | HTTP1_RES_HAS_BODY |
			HTTP1_RES_BODY_TRUNCATED | HTTP1_RES_ENDED_BY_EOF;
		r->role = 2; r->req_version = 0x11; r->res_version = 0x10; r->request_id = 0x7ffffc02U;
		memcpy(buf + sizeof(*r), tail, t - tail);
		dump_record(buf, sizeof(*r) + (t - tail));`);
	const [rec] = [...ringBufferRecords(toArrayBuffer(bytes))];
	const ev = decodeHttp1Event(rec!);
	const request = {
		kind: 'request',
		method: 'POST',
		url: '/a?b=1',
		versionMajor: 1,
		versionMinor: 1,
		headers: [
			['Host', 'h'],
			['X-', ''],
		],
		keepAlive: true,
		upgrade: false,
		bytes: 70,
		bodyBytes: 2,
		body: new Uint8Array(Buffer.from('in')),
		bodyTruncated: false,
		startNs: 1000n,
		endNs: 2000n,
		endedBy: 'framing',
	};
	const response = {
		kind: 'response',
		status: 201,
		statusText: 'Created',
		versionMajor: 1,
		versionMinor: 0,
		headers: [['Set', 'été']],
		keepAlive: false,
		upgrade: true,
		bytes: 2 ** 32 + 1,
		bodyBytes: 9,
		body: new Uint8Array(Buffer.from('out')),
		bodyTruncated: true,
		startNs: 3000n,
		endNs: 5000n,
		endedBy: 'eof',
	};
	const want = {
		type: 'exchange',
		tsNs: 5000n,
		tgid: 4242,
		ssl: 0x7f00deadbeef,
		fd: -1,
		gen: 7,
		requestId: 0x7ffffc02,
		exchange: { role: 'server', request, response, startNs: 1000n, endNs: 5000n },
	};
	assert.deepEqual(ev, want);
	assert.deepEqual(decodeTlsEvent(rec!), want);
	// The capture's flat form of the same bytes: what a request record takes, nothing more.
	assert.deepEqual(decodeHttp1ExchangeRecord(rec!), {
		type: 'exchangeRecord',
		tgid: 4242,
		ssl: 0x7f00deadbeef,
		fd: -1,
		gen: 7,
		role: 'server',
		requestId: 0x7ffffc02,
		method: 'POST',
		url: '/a?b=1',
		status: 201,
		httpVersion: '1.0',
		requestHeaders: request.headers,
		responseHeaders: response.headers,
		reqBytes: 70,
		respBytes: 2 ** 32 + 1,
		requestBody: request.body,
		responseBody: response.body,
		startNs: 1000,
		endNs: 5000,
		latencyNs: 4000,
	});
	// Header names by key: what a name's values show is asked once per keyed name (the
	// capture's redaction), and every time for a name without a key.
	const asked: string[] = [];
	const names = new HeaderNames((n) => {
		asked.push(n);
		return n === 'Host' ? 'REDACTED' : undefined;
	});
	const decoded = [0, 1].map(() => decodeHttp1ExchangeRecord(rec!, names));
	for (const named of decoded) {
		assert.deepEqual(named.requestHeaders, [
			['Host', 'REDACTED'],
			['X-', ''],
		]);
		assert.deepEqual(named.responseHeaders, [['Set', 'été']]);
	}
	assert.deepEqual(asked, ['Host', 'X-', 'Set', 'Set']);
	// A keyed header line is made once: the records share it.
	assert.equal(decoded[1]!.requestHeaders[0], decoded[0]!.requestHeaders[0]);
	assert.notEqual(decoded[1]!.responseHeaders[0], decoded[0]!.responseHeaders[0]);
	for (const cut of [4, 100 - 16]) {
		assert.throws(() => decodeHttp1ExchangeRecord(new DataView(rec!.buffer, rec!.byteOffset, rec!.byteLength - cut)));
	}
	// A record cut short, or whose lengths claim more than it holds, throws.
	assert.throws(() => decodeHttp1Event(new DataView(rec!.buffer, rec!.byteOffset, rec!.byteLength - 4)));
	assert.throws(() => decodeHttp1Event(new DataView(rec!.buffer, rec!.byteOffset, 100)));
});

test('connection and request start records decode; stats of another length throw', () => {
	const bytes = cBytes(`
		struct http1_conn_record c;
		unsigned char s[sizeof(struct http1_request_start_record) + 5];
		struct http1_request_start_record *r = (void *)s;
		memset(&c, 0, sizeof(c)); memset(s, 0, sizeof(s));
		c.ts_ns = 9; c.type = HTTP1_EV_CONN_END; c.tgid = 3; c.ssl = 0x1000; c.bytes_out = 10; c.bytes_in = 20;
		c.exchanges = 2; c.fd = 5; c.gen = 1; c.protocol = 1; c.role = 1; c.losses = 0x80000007U;
		r->ts_ns = 8; r->type = HTTP1_EV_REQUEST_START; r->tgid = 3; r->request_id = 0x7ffffc01U; r->tid = 4;
		r->line_len = 5; r->has_line = 1; memcpy(s + sizeof(*r), "GET /", 5);
		dump(&c, sizeof(c)); dump(s, sizeof(s));`);
	assert.deepEqual(decodeHttp1Event(view(bytes.subarray(0, HTTP1_CONN_RECORD_SIZE))), {
		type: 'connEnd',
		tsNs: 9n,
		tgid: 3,
		ssl: 0x1000,
		bytesOut: 10,
		bytesIn: 20,
		requests: 2,
		fd: 5,
		gen: 1,
		protocol: 'http1',
		role: 'client',
		losses: 0x80000007,
	});
	assert.deepEqual(decodeHttp1Event(view(bytes.subarray(HTTP1_CONN_RECORD_SIZE))), {
		type: 'requestStart',
		tsNs: 8n,
		tgid: 3,
		requestId: 0x7ffffc01,
		tid: 4,
		line: 'GET /',
	});
	const stats = new ArrayBuffer(HTTP1_STATS.length * 8);
	new DataView(stats).setUint32(8 * HTTP1_STATS.indexOf('desyncs'), 3, true);
	assert.equal(decodeHttp1Stats(stats).desyncs, 3);
	assert.throws(() => decodeHttp1Stats(new ArrayBuffer(8)), /http1 stats of 8 bytes/);
});

test('damaged or random http1 records decode inside their bytes or throw one one-line Error', () => {
	const exchange = cBytes(`
		struct http1_header h = {7, 9, 1, 1};
		unsigned char tail[64], *t = tail;
		memcpy(t, "GET/xOK", 7); t += 7;
		memcpy(t, &h, sizeof(h)); t += sizeof(h); memcpy(t, "abbody", 6); t += 6;
		unsigned char buf[sizeof(struct http1_exchange_record) + 64];
		struct http1_exchange_record *r = (void *)buf;
		memset(buf, 0, sizeof(buf));
		r->type = HTTP1_EV_EXCHANGE; r->url_len = 2; r->status_text_len = 2; r->req_header_count = 1;
		r->res_body_len = 4; r->method_len = 3; r->flags = HTTP1_RES_HAS_BODY;
		memcpy(buf + sizeof(*r), tail, t - tail);
		dump(buf, sizeof(*r) + (t - tail));`);
	const valid = decodeHttp1Event(view(exchange));
	assert.ok(valid.type === 'exchange' && valid.exchange.request.headers[0]![1] === 'b');
	const type = fc.constantFrom(64, 65, 66, 67);
	fc.assert(
		fc.property(
			fc.oneof(
				fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 400 }), type).map(([b, t]) => {
					const out = Buffer.from(b);
					out.writeUInt32LE(t, 8);
					return out;
				}),
				fc
					.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.option(fc.nat(), { freq: 2 }))
					.map(([flips, cut]) => {
						const out = Buffer.from(exchange);
						for (const [at, v] of flips) out[16 + (at % (out.length - 16))] = v;
						return cut === null ? out : out.subarray(0, cut % (out.length + 1));
					}),
				// A length field off by a little: the strings or bodies then end where they should not.
				fc.tuple(fc.constantFrom(88, 92, 96, 100, 104, 108, 114), fc.integer({ min: -3, max: 3 })).map(([at, delta]) => {
					const out = Buffer.from(exchange);
					if (at === 114) out.writeUInt16LE((out.readUInt16LE(at) + delta) & 0xffff, at);
					else out.writeUInt32LE((out.readUInt32LE(at) + delta) >>> 0, at);
					return out;
				}),
			),
			(bytes) => {
				const oneLine = (err: unknown) => {
					assert.equal((err as Error).constructor, Error, String(err));
					assert.doesNotMatch((err as Error).message, /\n/);
				};
				let nested: ReturnType<typeof decodeHttp1Event> | undefined;
				try {
					nested = decodeHttp1Event(view(bytes));
					if (nested.type === 'exchange') {
						const m = nested.exchange.response;
						assert.ok((m.body?.length ?? 0) <= bytes.length);
					}
				} catch (err) {
					oneLine(err);
				}
				// The capture's flat decoder takes exchanges only, with the same checks: it
				// throws where the full decoder does and otherwise reads the same fields.
				if (bytes.length < 12 || bytes.readUInt32LE(8) !== 64) return;
				let flat: ReturnType<typeof decodeHttp1ExchangeRecord> | undefined;
				try {
					flat = decodeHttp1ExchangeRecord(view(bytes));
				} catch (err) {
					oneLine(err);
				}
				assert.equal(flat === undefined, nested === undefined, 'both decoders take a record, or both refuse it');
				// As the capture reads it: at its place in a batch, through the batch's view, with
				// other records' bytes around it that it must neither read nor mistake for its own.
				const batch = Buffer.concat([Buffer.alloc(40, 0xa5), bytes, Buffer.alloc(300, 0x5a)]);
				let inBatch: ReturnType<typeof decodeHttp1ExchangeRecord> | undefined;
				try {
					inBatch = decodeExchangeRecordAt(view(batch), 40, bytes.length);
				} catch (err) {
					oneLine(err);
				}
				assert.deepEqual(inBatch, flat, 'the same record, or the same refusal, at its place in a batch');
				// Keyed headers: the same checks, the same headers in number (by key, a damaged
				// record may show another line of the same lengths: keys come from the addon).
				let keyed: ReturnType<typeof decodeHttp1ExchangeRecord> | undefined;
				try {
					keyed = decodeHttp1ExchangeRecord(view(bytes), new HeaderNames(() => undefined));
				} catch (err) {
					oneLine(err);
				}
				assert.equal(keyed === undefined, flat === undefined);
				if (keyed && flat) {
					assert.equal(keyed.requestHeaders.length, flat.requestHeaders.length);
					assert.equal(keyed.responseHeaders.length, flat.responseHeaders.length);
				}
				if (flat && nested?.type === 'exchange') {
					const { request: q, response: r } = nested.exchange;
					assert.deepEqual(
						[
							flat.method,
							flat.url,
							flat.status,
							flat.requestHeaders,
							flat.responseHeaders,
							flat.reqBytes,
							flat.respBytes,
							flat.requestBody,
							flat.responseBody,
						],
						[q.method, q.url, r.status, q.headers, r.headers, q.bytes, r.bytes, q.body, r.body],
					);
					assert.equal(flat.requestId, nested.requestId);
					// Exact below 2^53 ns (104 days of uptime); the latency whenever it is below that.
					const exact = 2n ** 53n;
					if (q.startNs < exact) assert.equal(BigInt(flat.startNs), q.startNs);
					const latency = nested.exchange.endNs - q.startNs;
					if (latency > -exact && latency < exact) assert.equal(flat.latencyNs, Number(latency));
				}
			},
		),
		{ numRuns: 3000 },
	);
});
