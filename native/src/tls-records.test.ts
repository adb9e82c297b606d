import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goldenMain, toArrayBuffer } from '@firesight/testing/golden-c';
import { ringBufferRecords } from './ring-buffer-records.ts';
import {
	decodeTlsCounters,
	decodeTlsEvent,
	formatIpv6,
	TLS_CLOSE_EVENT_SIZE,
	TLS_CONN_EVENT_SIZE,
	TLS_COUNTERS,
	TLS_DATA_EVENT_SIZE,
	TLS_PROC_EVENT_SIZE,
} from './tls-records.ts';

/** Compiles a main() against bpf/tls.h and returns what it writes: the golden bytes come from the C compiler. */
const cBytes = (body: string) => goldenMain('tls.h', body);

const view = (b: Buffer) => new DataView(b.buffer, b.byteOffset, b.byteLength);

test('struct sizes match the C header', () => {
	const sizes = cBytes(`unsigned s[4] = {sizeof(struct tls_data_event), sizeof(struct tls_conn_event),
		sizeof(struct tls_close_event), sizeof(struct tls_proc_event)}; dump(s, sizeof(s));`);
	assert.deepEqual(
		[0, 1, 2, 3].map((i) => sizes.readUInt32LE(i * 4)),
		[TLS_DATA_EVENT_SIZE, TLS_CONN_EVENT_SIZE, TLS_CLOSE_EVENT_SIZE, TLS_PROC_EVENT_SIZE],
	);
});

test('a data record with its payload decodes field by field', () => {
	const bytes = cBytes(`
		unsigned char buf[sizeof(struct tls_data_event) + 5];
		struct tls_data_event *e = (void *)buf;
		memset(buf, 0, sizeof(buf));
		e->ts_ns = 123456789012345ULL; e->type = TLS_EV_DATA; e->tgid = 4242; e->start_ns = 123456789000000ULL;
		e->ssl = 0x7f00deadbeefULL; e->tid = 4243; e->len = 70000; e->cap_len = 5; e->fd = -1; e->gen = 3;
		e->request_id = 0x7ffffc01U; e->dir = TLS_DIR_WRITE; e->func = TLS_FN_SSL_WRITE_EX; e->fd_source = TLS_FD_NEXT_WRITE;
		memcpy(buf + sizeof(*e), "GET /", 5);
		dump(buf, sizeof(buf));`);
	const ev = decodeTlsEvent(view(bytes));
	assert.deepEqual(ev, {
		type: 'data',
		tsNs: 123456789012345n,
		startNs: 123456789000000n,
		tgid: 4242,
		tid: 4243,
		ssl: 0x7f00deadbeefn,
		length: 70000,
		payload: new Uint8Array(Buffer.from('GET /')),
		fd: -1,
		gen: 3,
		requestId: 0x7ffffc01,
		direction: 'write',
		func: 'SSL_write_ex',
		fdSource: 'next-write',
	});
});

test('conn, close and proc records decode; an unconnected peer is null, not 0.0.0.0:0', () => {
	const bytes = cBytes(`
		struct tls_conn_event c; struct tls_conn_event c6; struct tls_close_event x; struct tls_proc_event p;
		memset(&c, 0, sizeof(c)); memset(&c6, 0, sizeof(c6)); memset(&x, 0, sizeof(x)); memset(&p, 0, sizeof(p));
		c.ts_ns = 5; c.type = TLS_EV_CONN; c.tgid = 10; c.ssl = 99; c.fd = 7; c.gen = 2; c.family = 2;
		c.lport = 443; c.rport = 51000; c.fd_source = TLS_FD_INSIDE_CALL;
		unsigned char l4[4] = {10, 0, 0, 1}, r4[4] = {192, 168, 1, 20};
		memcpy(c.laddr, l4, 4); memcpy(c.raddr, r4, 4);
		c6 = c; c6.family = 10; c6.rport = 0; memset(c6.laddr, 0, 16); c6.laddr[15] = 1;
		x.ts_ns = 6; x.type = TLS_EV_CLOSE; x.tgid = 10; x.fd = 7; x.gen = 2;
		p.ts_ns = 7; p.type = TLS_EV_EXEC; p.tgid = 11; strcpy(p.comm, "curl");
		dump_record(&c, sizeof(c));
		dump_record(&c6, sizeof(c6));
		dump_record(&x, sizeof(x));
		dump_record(&p, sizeof(p));`);
	const evs = [...ringBufferRecords(toArrayBuffer(bytes))].map(decodeTlsEvent);
	assert.deepEqual(evs, [
		{
			type: 'conn',
			tsNs: 5n,
			tgid: 10,
			ssl: 99n,
			fd: 7,
			gen: 2,
			family: 'ipv4',
			local: { address: '10.0.0.1', port: 443 },
			remote: { address: '192.168.1.20', port: 51000 },
			fdSource: 'inside-call',
		},
		{
			type: 'conn',
			tsNs: 5n,
			tgid: 10,
			ssl: 99n,
			fd: 7,
			gen: 2,
			family: 'ipv6',
			local: { address: '::1', port: 443 },
			remote: null,
			fdSource: 'inside-call',
		},
		{ type: 'close', tsNs: 6n, tgid: 10, fd: 7, gen: 2 },
		{ type: 'exec', tsNs: 7n, tgid: 11, comm: 'curl' },
	]);
});

test('a record whose payload runs past its end is refused', () => {
	const b = Buffer.alloc(TLS_DATA_EVENT_SIZE + 2);
	b.writeUInt32LE(1, 8);
	b.writeUInt32LE(10, 40); // claims 10 payload bytes, has 2
	assert.throws(() => decodeTlsEvent(view(b)), /payload/);
});

test('counters decode in enum order with the stream drops last', () => {
	const b = Buffer.alloc(TLS_COUNTERS.length * 8);
	TLS_COUNTERS.forEach((_, i) => b.writeBigUInt64LE(BigInt(i * 10 + 1), i * 8));
	const c = decodeTlsCounters(toArrayBuffer(b));
	assert.equal(c.calls, 1);
	assert.equal(c.dataLost, 21);
	assert.equal(c.streamDropped, (TLS_COUNTERS.length - 1) * 10 + 1);
	const max = cBytes('printf("%d", TLS_COUNTER_MAX);').toString();
	assert.equal(Number(max), TLS_COUNTERS.length - 1);
});

test('a counters buffer shorter or longer than the layout throws instead of reading as zero drops', () => {
	const full = TLS_COUNTERS.length * 8;
	assert.throws(() => decodeTlsCounters(new ArrayBuffer(full - 8)), /tls counters buffer is \d+ bytes, expected \d+/);
	assert.throws(() => decodeTlsCounters(new ArrayBuffer(0)), /expected/);
	assert.throws(() => decodeTlsCounters(new ArrayBuffer(full + 8)), /expected/);
});

test('IPv6 formatting compresses the longest zero run and keeps mapped IPv4 dotted', () => {
	const a = new Uint8Array(16);
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[15] = 1;
	assert.equal(formatIpv6(a), '2001:db8::1');
	const m = new Uint8Array(16);
	m[10] = 0xff;
	m[11] = 0xff;
	m[12] = 127;
	m[15] = 1;
	assert.equal(formatIpv6(m), '::ffff:127.0.0.1');
	assert.equal(formatIpv6(new Uint8Array(16)), '::');
});

test('decodeTlsBatch decodes what it can: a bad record is reported and skipped, a frame past the batch ends it', async () => {
	const { decodeTlsBatch } = await import('./http1-tracker.ts');
	const close = (fd: number, type = 3) => {
		const b = Buffer.alloc(8 + TLS_CLOSE_EVENT_SIZE);
		b.writeUInt32LE(TLS_CLOSE_EVENT_SIZE, 0);
		b.writeBigUInt64LE(5n, 8);
		b.writeUInt32LE(type, 16);
		b.writeUInt32LE(9, 20);
		b.writeInt32LE(fd, 24);
		return b;
	};
	const truncated = Buffer.alloc(8 + 10);
	truncated.writeUInt32LE(100, 0);
	const batch = Buffer.concat([close(3), close(4, 99), close(5), truncated, close(6)]);
	const errors: string[] = [];
	const events = decodeTlsBatch(toArrayBuffer(batch), (err) => errors.push(err.message));
	assert.deepEqual(
		events.map((e) => (e.type === 'close' ? e.fd : e.type)),
		[3, 5],
	);
	assert.deepEqual(errors, ['unknown tls record type 99', 'ring-buffer record of 100 bytes runs past its batch']);
	const short = decodeTlsBatch(toArrayBuffer(Buffer.concat([close(7), Buffer.alloc(4)])), (err) => errors.push(err.message));
	assert.equal(short.length, 1);
	assert.equal(errors.at(-1), 'ring-buffer batch ends with 4 bytes, less than a frame header');
});
