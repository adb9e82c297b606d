/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tcp: TCP retransmits and connection life cycle, per connection and owning process.
 * Shared by tcp.bpf.c, the addon (native/src/tcp-tracer.cc) and the TypeScript decoder
 * (native/src/tcp-records.ts); golden-byte tests pin the layout.
 */
#ifndef FIRESIGHT_TCP_H
#define FIRESIGHT_TCP_H

#include "shared.h"

#define TCP_COMM_LEN 16

/* Addresses as the socket holds them (network order); ports in host order. */
struct tcp_tuple {
	__u8 saddr[16]; /* IPv4 in the first 4 bytes; IPv6 (maybe v4-mapped) in all 16 */
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u16 family; /* AF_INET (2) or AF_INET6 (10) */
	__u16 __pad;
};
FS_STATIC_ASSERT(sizeof(struct tcp_tuple) == 40, "tcp_tuple layout is shared with TypeScript");

/* flags in struct tcp_conn */
#define TCP_CONN_ACTIVE	     0x01 /* made by connect() */
#define TCP_CONN_PASSIVE     0x02 /* made by accept() */
#define TCP_CONN_OWNER_KNOWN 0x04 /* pid/comm were taken in the owner's process context */
#define TCP_CONN_MIDWAY	     0x08 /* first seen after it was opened (before tracing began) */

/*
 * One connection in the kernel aggregation map (value; the key is the socket cookie).
 * Times are CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns); 0 means "not yet".
 */
struct tcp_conn {
	__u64 start_ns; /* SYN_SENT / SYN_RECV, or first sight when MIDWAY */
	__u64 end_ns;	/* state change to CLOSE */
	__u64 first_retrans_ns;
	__u64 last_retrans_ns;
	__u64 bytes_acked;    /* tcp_sock.bytes_acked at the last event (close included) */
	__u64 bytes_received; /* tcp_sock.bytes_received at the last event */
	__u32 retrans_segs;   /* segments retransmitted, as TcpRetransSegs counts them */
	__u32 retrans_skbs;   /* tcp_retransmit_skb calls that counted segments */
	__u32 retrans_failed; /* tcp_retransmit_skb calls that returned an error */
	__u32 synack_retrans; /* SYN-ACKs retransmitted before a passive one was accepted */
	__u32 pid;	      /* owner tgid; 0 when unknown */
	__u32 total_retrans;  /* tcp_sock.total_retrans at the last event: next delta's base */
	__u32 __pad1;
	__u8 state; /* TCP_ESTABLISHED (1) .. TCP_NEW_SYN_RECV (12), kernel numbering */
	__u8 flags; /* TCP_CONN_* */
	__u16 __pad;
	char comm[TCP_COMM_LEN]; /* owner's thread name at connect/accept/listen */
	struct tcp_tuple tuple;
};
FS_STATIC_ASSERT(sizeof(struct tcp_conn) == 136, "tcp_conn layout is shared with TypeScript");

/* One record of a connection-map read: the key and its value. */
struct tcp_conn_record {
	__u64 cookie;
	struct tcp_conn conn;
};
FS_STATIC_ASSERT(sizeof(struct tcp_conn_record) == 144,
		 "tcp_conn_record layout is shared with TypeScript");

enum tcp_event_kind {
	TCP_EVENT_RETRANSMIT = 1,    /* tcp_retransmit_skb; segs, err set */
	TCP_EVENT_SYNACK_RETRANSMIT, /* tcp_retransmit_synack; conn.tuple is the request's */
	TCP_EVENT_OPEN,		     /* connect() or accept() recorded the owner */
	TCP_EVENT_CLOSE,	     /* state change to CLOSE; conn has the final counts */
};

/* A ring-buffer record: what happened plus the connection as it is after the event. */
struct tcp_event {
	__u64 ts_ns;
	__u64 cookie;
	__u32 kind;	/* enum tcp_event_kind */
	__u32 segs;	/* RETRANSMIT: segments in the skb */
	__s32 err;	/* RETRANSMIT: tcp_retransmit_skb's result (0: sent) */
	__u8 old_state; /* CLOSE: the state it left */
	__u8 __pad[3];
	struct tcp_conn conn;
};
FS_STATIC_ASSERT(sizeof(struct tcp_event) == 168, "tcp_event layout is shared with TypeScript");

/* Indices into the per-CPU counters map: every way data can be lost is counted. */
enum tcp_counter {
	TCP_RETRANSMIT_CALLS = 0, /* tcp_retransmit_skb hits (all, failed ones included) */
	TCP_RETRANSMIT_SEGMENTS,  /* segments in successful retransmits */
	TCP_SYNACK_RETRANSMITS,	  /* tcp_retransmit_synack hits */
	TCP_STATE_CHANGES,	  /* inet_sock_set_state hits for TCP */
	TCP_OWNER_UNKNOWN,	  /* retransmits on a connection with no recorded owner */
	TCP_CONNECTIONS_MAP_FULL, /* connection map full: a connection is not aggregated */
	TCP_RING_BUFFER_FULL,	  /* ring-buffer reserve failed: a live event is lost */
	TCP_SYNACK_PENDING_FULL,  /* SYN-ACK retransmits that could not be kept for the child */
	TCP_OWNER_MISSED,	  /* accept() of a socket whose birth was not traced */
	TCP_COUNTER_MAX,
};

#endif /* FIRESIGHT_TCP_H */
