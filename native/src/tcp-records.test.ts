import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goldenBytes, goldenMain, toArrayBuffer } from '@firesight/testing/golden-c';
import {
	TCP_CONN_RECORD_SIZE,
	TCP_COUNTERS,
	TCP_EVENT_SIZE,
	decodeConnections,
	decodeEvent,
	decodeTcpCounters,
	formatIPv6,
} from './tcp-records.ts';
import { ringBufferRecords } from './ring-buffer-records.ts';

/*
 * The golden bytes come from the C compiler: a program including bpf/tcp.h fills each struct
 * field by name and writes the raw bytes. If a field moves in the header, the decoder's offsets
 * no longer match and these tests fail.
 */
const program = `
#include "tcp.h"

static void fill(struct tcp_conn *c)
{
	c->start_ns = 0x0102030405060708ULL;
	c->end_ns = 0x1112131415161718ULL;
	c->first_retrans_ns = 1000;
	c->last_retrans_ns = 2000;
	c->bytes_acked = 5000000000ULL;
	c->bytes_received = 77;
	c->retrans_segs = 41;
	c->retrans_skbs = 17;
	c->retrans_failed = 3;
	c->synack_retrans = 2;
	c->pid = 424242;
	c->total_retrans = 0xffffffff;
	c->state = 1;
	c->flags = 0x01 | 0x04;
	strcpy(c->comm, "sender");
	c->tuple.family = 10;
	c->tuple.sport = 40000;
	c->tuple.dport = 443;
	unsigned char s[16] = {0x20,0x01,0x0d,0xb8,0,0,0,0,0,0,0,0,0,0,0,1};
	unsigned char d[16] = {0,0,0,0,0,0,0,0,0,0,0xff,0xff,10,0,0,2};
	memcpy(c->tuple.saddr, s, 16);
	memcpy(c->tuple.daddr, d, 16);
}

int main(void)
{
	struct tcp_conn_record r;
	struct tcp_event e;
	memset(&r, 0, sizeof(r));
	memset(&e, 0, sizeof(e));
	r.cookie = 0xdeadbeef12345678ULL;
	fill(&r.conn);
	e.ts_ns = 99;
	e.cookie = 7;
	e.kind = TCP_EVENT_CLOSE;
	e.segs = 4;
	e.err = -16;
	e.old_state = 9;
	fill(&e.conn);
	e.conn.tuple.family = 2;
	unsigned char s4[4] = {192,168,7,1}, d4[4] = {192,168,7,2};
	memset(e.conn.tuple.saddr, 0, 16);
	memset(e.conn.tuple.daddr, 0, 16);
	memcpy(e.conn.tuple.saddr, s4, 4);
	memcpy(e.conn.tuple.daddr, d4, 4);
	dump(&r, sizeof(r));
	dump_record(&e, sizeof(e));
	return 0;
}
`;

test('connection records decode field by field from bytes the C compiler laid out', () => {
	const bytes = goldenBytes(program);
	assert.equal(bytes.length, TCP_CONN_RECORD_SIZE + 8 + TCP_EVENT_SIZE);
	const [c, ...rest] = decodeConnections(toArrayBuffer(bytes.subarray(0, TCP_CONN_RECORD_SIZE)));
	assert.equal(rest.length, 0);
	assert.ok(c);
	assert.equal(c.cookie, 0xdeadbeef12345678n);
	assert.equal(c.startNs, 0x0102030405060708n);
	assert.equal(c.endNs, 0x1112131415161718n);
	assert.equal(c.firstRetransmitNs, 1000n);
	assert.equal(c.lastRetransmitNs, 2000n);
	assert.equal(c.bytesAcked, 5_000_000_000);
	assert.equal(c.bytesReceived, 77);
	assert.equal(c.retransmitSegments, 41);
	assert.equal(c.retransmitSkbs, 17);
	assert.equal(c.retransmitFailures, 3);
	assert.equal(c.synackRetransmits, 2);
	assert.equal(c.retransmits, 43);
	assert.equal(c.pid, 424242);
	assert.equal(c.state, 'ESTABLISHED');
	assert.equal(c.direction, 'active');
	assert.equal(c.ownerKnown, true);
	assert.equal(c.midway, false);
	assert.equal(c.comm, 'sender');
	assert.equal(c.family, 6);
	assert.equal(c.saddr, '2001:db8::1');
	assert.equal(c.daddr, '::ffff:10.0.0.2');
	assert.equal(c.sport, 40000);
	assert.equal(c.dport, 443);
});

test('ring-buffer events decode from a framed batch the C compiler laid out', () => {
	const bytes = goldenBytes(program);
	const batch = toArrayBuffer(bytes.subarray(TCP_CONN_RECORD_SIZE));
	const records = [...ringBufferRecords(batch)];
	assert.equal(records.length, 1);
	const e = decodeEvent(records[0]!);
	assert.ok(e);
	assert.equal(e.kind, 'close');
	assert.equal(e.tsNs, 99n);
	assert.equal(e.segments, 4);
	assert.equal(e.err, -16);
	assert.equal(e.oldState, 'LAST_ACK');
	assert.equal(e.connection.cookie, 7n);
	assert.equal(e.connection.family, 4);
	assert.equal(e.connection.saddr, '192.168.7.1');
	assert.equal(e.connection.daddr, '192.168.7.2');
	assert.equal(e.connection.retransmitSegments, 41);
	assert.equal(e.connection.pid, 424242);
});

test('an unknown event kind decodes to null, a short record throws', () => {
	const view = new DataView(new ArrayBuffer(TCP_EVENT_SIZE));
	view.setUint32(16, 99, true);
	assert.equal(decodeEvent(view), null);
	assert.throws(() => decodeEvent(new DataView(new ArrayBuffer(TCP_EVENT_SIZE - 8))));
	assert.throws(() => decodeConnections(new ArrayBuffer(TCP_CONN_RECORD_SIZE + 1)));
});

test('counters decode in enum order as C lays them out', () => {
	const bytes = goldenMain(
		'tcp.h',
		`__u64 c[TCP_COUNTER_MAX];
		for (int i = 0; i < TCP_COUNTER_MAX; i++) c[i] = i * 10 + 1;
		c[TCP_RING_BUFFER_FULL] = 61000; c[TCP_OWNER_MISSED] = 81000;
		dump(c, sizeof(c));`,
	);
	assert.equal(bytes.length, TCP_COUNTERS.length * 8, 'enum tcp_counter and TCP_COUNTERS differ in length');
	const counters = decodeTcpCounters(toArrayBuffer(bytes));
	assert.deepEqual(Object.keys(counters), [...TCP_COUNTERS]);
	assert.equal(counters.retransmitCalls, 1);
	assert.equal(counters.connectionsMapFull, 51);
	assert.equal(counters.ringBufferFull, 61000);
	assert.equal(counters.ownerMissed, 81000);
});

test('a counters buffer shorter or longer than the enum throws instead of reading as zero drops', () => {
	const full = TCP_COUNTERS.length * 8;
	assert.throws(() => decodeTcpCounters(new ArrayBuffer(full - 8)), /tcp counters buffer is \d+ bytes, expected \d+/);
	assert.throws(() => decodeTcpCounters(new ArrayBuffer(0)), /expected/);
	assert.throws(() => decodeTcpCounters(new ArrayBuffer(full + 8)), /expected/);
});

test('IPv6 text follows RFC 5952', () => {
	const b = (...g: number[]) => new Uint8Array(g.flatMap((x) => [x >> 8, x & 0xff]));
	assert.equal(formatIPv6(b(0, 0, 0, 0, 0, 0, 0, 1)), '::1');
	assert.equal(formatIPv6(b(0, 0, 0, 0, 0, 0, 0, 0)), '::');
	assert.equal(formatIPv6(b(0x2001, 0xdb8, 0, 1, 0, 0, 0, 1)), '2001:db8:0:1::1');
	assert.equal(formatIPv6(b(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1)), '2001:db8::1:0:0:1');
	assert.equal(formatIPv6(b(0xfe80, 1, 2, 3, 4, 5, 6, 7)), 'fe80:1:2:3:4:5:6:7');
});
