// Records the addon's HTTP/1 tracker (http1-tracker.h) hands JavaScript instead of the tls tool's
// data and close records: one per exchange, one per ended connection, one per request start the
// kernel gave an id. They travel in the same framed batches as the kernel's records (after the
// same {ts_ns, type, tgid} head, with types the kernel does not use) and are decoded by
// http1-records.ts; golden-byte tests pin each layout.
#ifndef FIRESIGHT_HTTP1_RECORDS_H
#define FIRESIGHT_HTTP1_RECORDS_H

#include <linux/types.h>

#include "shared.h"

enum http1_record_type {
	/*
	 * struct http1_exchange_record, then: method, url, status text; the request's headers and
	 * then the response's, each a struct http1_header then its name and value; the request's
	 * captured body, then the response's.
	 */
	HTTP1_EV_EXCHANGE = 64,
	HTTP1_EV_CONN_END = 65,	     /* struct http1_conn_record: a connection ended */
	HTTP1_EV_CONN_OPEN = 66,     /* struct http1_conn_record: an open one (connections()) */
	HTTP1_EV_REQUEST_START = 67, /* struct http1_request_start_record + line_len bytes */
};

enum http1_exchange_flags {
	HTTP1_REQ_KEEP_ALIVE = 1 << 0,
	HTTP1_REQ_UPGRADE = 1 << 1,
	HTTP1_RES_KEEP_ALIVE = 1 << 2,
	HTTP1_RES_UPGRADE = 1 << 3,
	HTTP1_REQ_HAS_BODY = 1 << 4, /* body capture was on: the (maybe empty) body follows */
	HTTP1_RES_HAS_BODY = 1 << 5,
	HTTP1_REQ_BODY_TRUNCATED = 1 << 6,
	HTTP1_RES_BODY_TRUNCATED = 1 << 7,
	HTTP1_REQ_ENDED_BY_EOF = 1 << 8,
	HTTP1_RES_ENDED_BY_EOF = 1 << 9,
};

struct http1_exchange_record {
	__u64 ts_ns; /* the response's last byte */
	__u32 type;  /* HTTP1_EV_EXCHANGE */
	__u32 tgid;
	__u64 ssl;
	__u64 req_start_ns;
	__u64 req_end_ns;
	__u64 res_start_ns;
	__u64 req_bytes; /* on the wire: start line, headers, framed body */
	__u64 res_bytes;
	__u64 req_body_bytes; /* decoded body bytes */
	__u64 res_body_bytes;
	__s32 fd; /* -1 when the socket never became known */
	__u32 gen;
	__u32 url_len;
	__u32 status_text_len;
	__u32 req_header_count;
	__u32 res_header_count;
	__u32 req_body_len; /* captured body bytes that follow */
	__u32 res_body_len;
	__u16 status;
	__u16 method_len;
	__u16 flags;	  /* enum http1_exchange_flags */
	__u8 role;	  /* 1: the process sent the request (client), 2: it answered (server) */
	__u8 req_version; /* major << 4 | minor */
	__u8 res_version;
	__u8 __pad[3];
	/*
	 * The id the kernel gave the read this request began with (bpf/request-context.h), the one
	 * its HTTP1_EV_REQUEST_START record carried; 0 when none. Request attribution pairs the
	 * two by it.
	 */
	__u32 request_id;
};
FS_STATIC_ASSERT(sizeof(struct http1_exchange_record) == 128,
		 "http1_exchange_record layout is shared with TypeScript");

/*
 * Before each header's name and value in an exchange record (unaligned). Keys are the same for
 * the same bytes and never the same for other bytes, within one tracker's life; 0 when the bytes
 * have none (too long to key).
 */
struct http1_header {
	__u32 name_key; /* the name's */
	__u32 pair_key; /* the name's and the value's together */
	__u32 name_len;
	__u32 value_len;
};
FS_STATIC_ASSERT(sizeof(struct http1_header) == 16,
		 "http1_header layout is shared with TypeScript");

struct http1_conn_record {
	__u64 ts_ns; /* when it ended (HTTP1_EV_CONN_END), or its last data */
	__u32 type;
	__u32 tgid;
	__u64 ssl;
	__u64 bytes_out;
	__u64 bytes_in;
	__u64 exchanges;
	__s32 fd;
	__u32 gen;
	__u8 protocol; /* 0 pending, 1 HTTP/1.x, 2 other */
	__u8 role;     /* 0 unknown, 1 client, 2 server */
	__u8 __pad[2];
	/*
	 * What the tracker counted lost on this connection alone (parse errors, desyncs, unpaired
	 * responses, requests past the pipelining bound; saturating), so that one connection's loss
	 * can be told from the rest of the host's.
	 */
	__u32 losses;
};
FS_STATIC_ASSERT(sizeof(struct http1_conn_record) == 64,
		 "http1_conn_record layout is shared with TypeScript");

struct http1_request_start_record {
	__u64 ts_ns;
	__u32 type; /* HTTP1_EV_REQUEST_START */
	__u32 tgid;
	__u32 request_id;
	__u32 tid;
	__u32 line_len; /* bytes of the request line that follow (at most 8 KiB) */
	__u32 has_line; /* 0 when the read held no line end */
};
FS_STATIC_ASSERT(sizeof(struct http1_request_start_record) == 32,
		 "http1_request_start_record layout is shared with TypeScript");

/* Header names, and header lines, keyed at once; past it a table starts again, with new keys. */
#define HTTP1_HEADER_KEYS 4096

/* The tracker's totals, in this order, as u64s (Http1Tracker's stats()). */
enum http1_stat {
	HTTP1_STAT_OPEN,
	HTTP1_STAT_CLOSED,
	HTTP1_STAT_EVICTED,
	HTTP1_STAT_UNBOUND_SEEN,
	HTTP1_STAT_EXCHANGES,
	HTTP1_STAT_PARSE_ERRORS,
	HTTP1_STAT_DESYNCS,
	HTTP1_STAT_SKIPPED_BYTES,
	HTTP1_STAT_FILLED_GAPS,
	HTTP1_STAT_UNPAIRED_RESPONSES,
	HTTP1_STAT_UNANSWERED_REQUESTS,
	HTTP1_STAT_PENDING_DROPPED,
	HTTP1_STAT_OTHER_PROTOCOL_BYTES,
	HTTP1_STAT_MAX,
};

#endif // FIRESIGHT_HTTP1_RECORDS_H
