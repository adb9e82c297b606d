import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Http1Connection, type Http1Exchange } from './http1-connection.ts';
import type { Chunk } from './message-parser.ts';

let clock = 1000n;
function chunk(text: string | Uint8Array, length?: number): Chunk {
	const bytes = typeof text === 'string' ? new Uint8Array(Buffer.from(text, 'latin1')) : text;
	const firstNs = (clock += 10n);
	const lastNs = (clock += 5n);
	return { bytes, length: length ?? bytes.length, firstNs, lastNs };
}

function connection(opts: { maxBodyBytes?: number } = {}) {
	const out: Http1Exchange[] = [];
	const conn = new Http1Connection({ ...opts, onExchange: (e) => out.push(e) });
	return { conn, out };
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
const ok = (body: string, extra = '') => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;

test('keep-alive: requests and responses pair in order with sizes and latency', () => {
	const { conn, out } = connection();
	const req1 = chunk(get('/a'));
	conn.push('outbound', req1);
	const res1 = chunk(ok('hello'));
	conn.push('inbound', res1);
	conn.push('outbound', chunk(get('/b?x=1')));
	conn.push('inbound', chunk('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
	assert.equal(conn.role, 'client');
	assert.deepEqual(
		out.map((e) => [e.request.method, e.request.url, e.response.status]),
		[
			['GET', '/a', 200],
			['GET', '/b?x=1', 404],
		],
	);
	const e = out[0]!;
	assert.equal(e.startNs, req1.firstNs);
	assert.equal(e.endNs, res1.lastNs);
	assert.equal(e.request.bytes, get('/a').length);
	assert.equal(e.response.bytes, ok('hello').length);
	assert.equal(e.response.bodyBytes, 5);
	assert.equal(e.role, 'client');
});

test('pipelining: several requests in one chunk, responses split across chunks', () => {
	const { conn, out } = connection();
	conn.push('inbound', chunk(get('/1') + get('/2') + get('/3')));
	const all = ok('one') + ok('two!') + ok('three');
	conn.push('outbound', chunk(all.slice(0, 30)));
	conn.push('outbound', chunk(all.slice(30, 61)));
	conn.push('outbound', chunk(all.slice(61)));
	assert.equal(conn.role, 'server');
	assert.deepEqual(
		out.map((e) => [e.request.url, e.response.bodyBytes]),
		[
			['/1', 3],
			['/2', 4],
			['/3', 5],
		],
	);
	assert.equal(
		out.reduce((n, e) => n + e.response.bytes, 0),
		all.length,
	);
	assert.equal(
		out.reduce((n, e) => n + e.request.bytes, 0),
		(get('/1') + get('/2') + get('/3')).length,
	);
});

test('chunked bodies with a capped capture', () => {
	const { conn, out } = connection({ maxBodyBytes: 6 });
	conn.push('outbound', chunk('POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n'));
	conn.push('outbound', chunk('5\r\nefghi\r\n0\r\n\r\n'));
	conn.push('inbound', chunk('HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nyes\r\n0\r\n\r\n'));
	assert.equal(out.length, 1);
	const e = out[0]!;
	assert.equal(e.request.bodyBytes, 9);
	assert.equal(Buffer.from(e.request.body!).toString(), 'abcdef');
	assert.equal(e.request.bodyTruncated, true);
	assert.equal(Buffer.from(e.response.body!).toString(), 'yes');
	assert.equal(e.response.bodyTruncated, false);
});

test('a large body with uncaptured gaps keeps the stream in step', () => {
	const { conn, out } = connection();
	conn.push('outbound', chunk(get('/big')));
	const body = 1 << 20;
	const head = `HTTP/1.1 200 OK\r\nContent-Length: ${body}\r\n\r\n`;
	// One write of the whole response; only the first 16 KiB captured.
	conn.push('inbound', chunk(head + 'x'.repeat(16384 - head.length), head.length + body));
	conn.push('outbound', chunk(get('/next')));
	conn.push('inbound', chunk(ok('fine')));
	assert.deepEqual(
		out.map((e) => [e.request.url, e.response.status, e.response.bodyBytes]),
		[
			['/big', 200, body],
			['/next', 200, 4],
		],
	);
	assert.equal(out[0]!.response.bodyTruncated, true);
});

test('a gap in the headers resynchronizes on the next message', () => {
	const { conn, out } = connection();
	conn.push('outbound', chunk(get('/lost')));
	conn.push('inbound', chunk('HTTP/1.1 200 OK\r\nX-Big: aaaa', 20000));
	conn.push('outbound', chunk(get('/after')));
	conn.push('inbound', chunk(ok('ok')));
	assert.equal(conn.stats.desyncs, 1);
	// The lost response takes its request with it: /after is not paired with /lost's answer.
	assert.deepEqual(
		out.map((e) => [e.request.url, e.response.bodyBytes]),
		[['/after', 2]],
	);
	assert.equal(conn.stats.unansweredRequests, 1);
});

test('HEAD responses have no body; 100 Continue is not the answer', () => {
	const { conn, out } = connection();
	conn.push('outbound', chunk('HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n'));
	conn.push('inbound', chunk('HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n'));
	conn.push('outbound', chunk('PUT /p HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n'));
	conn.push('inbound', chunk('HTTP/1.1 100 Continue\r\n\r\n'));
	conn.push('outbound', chunk('hi'));
	conn.push('inbound', chunk(ok('')));
	assert.deepEqual(
		out.map((e) => [e.request.method, e.response.status, e.response.bodyBytes]),
		[
			['HEAD', 200, 0],
			['PUT', 200, 0],
		],
	);
	assert.equal(out[1]!.request.bodyBytes, 2);
});

test('an HTTP/1.0 response without a length ends with the connection', () => {
	const { conn, out } = connection();
	conn.push('outbound', chunk(get('/old')));
	conn.push('inbound', chunk('HTTP/1.0 200 ok\r\nContent-type: text/html\r\n\r\n<html>'));
	conn.push('inbound', chunk('more</html>'));
	assert.equal(out.length, 0);
	conn.end(clock + 100n);
	assert.equal(out.length, 1);
	assert.equal(out[0]!.response.endedBy, 'eof');
	assert.equal(out[0]!.response.bodyBytes, '<html>more</html>'.length);
	assert.equal(out[0]!.endNs, clock + 100n);
});

test('traffic that is not HTTP is counted, not parsed', () => {
	const { conn, out } = connection();
	const first = '\x16\x03\x01binary-ish protocol';
	conn.push('outbound', chunk(first));
	conn.push('inbound', chunk('reply bytes'));
	assert.equal(conn.stats.protocol, 'other');
	assert.equal(conn.stats.outboundBytes, first.length);
	assert.equal(conn.stats.inboundBytes, 11);
	assert.equal(out.length, 0);
});

test('after 101 Switching Protocols the connection is no longer parsed', () => {
	const { conn, out } = connection();
	conn.push('outbound', chunk(get('/ws', 'Upgrade: websocket\r\nConnection: Upgrade\r\n')));
	conn.push('inbound', chunk('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
	conn.push('outbound', chunk('\x81\x05hello'));
	assert.equal(out.length, 1);
	assert.equal(out[0]!.response.status, 101);
	assert.equal(conn.stats.protocol, 'other');
	assert.equal(conn.stats.outboundBytes > 7, true);
});
