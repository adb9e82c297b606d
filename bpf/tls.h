/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tls: plaintext of OpenSSL's SSL_read/SSL_write (and their _ex forms), tied to the socket each SSL
 * object talks through. Shared by tls.bpf.c, the addon (native/src/tls-tracer.cc) and the
 * TypeScript decoder (native/src/tls-records.ts); golden-byte tests pin the layout.
 *
 * Every record starts with the same 16 bytes {ts_ns, type, tgid}; the decoder switches on type.
 */
#ifndef FIRESIGHT_TLS_H
#define FIRESIGHT_TLS_H

#include "shared.h"

/* Plaintext bytes copied per call; the rest is counted in `len` but not captured. */
#define TLS_MAX_CAPTURE 16384
#define TLS_COMM_LEN	16

enum tls_event_type {
	TLS_EV_DATA = 1,  /* struct tls_data_event + cap_len payload bytes */
	TLS_EV_CONN = 2,  /* struct tls_conn_event: an SSL object was tied to a socket */
	TLS_EV_CLOSE = 3, /* struct tls_close_event: a socket tied to an SSL object was closed */
	TLS_EV_EXEC = 4,  /* struct tls_proc_event: a process called exec (target discovery) */
	TLS_EV_EXIT = 5,  /* struct tls_proc_event: a process that did TLS exited */
	/* struct tls_event_head only: no longer emitted (the reader drains on a timer) */
	TLS_EV_TICK = 6,
};

enum tls_direction {
	TLS_DIR_READ = 0,  /* SSL_read: bytes the process received */
	TLS_DIR_WRITE = 1, /* SSL_write: bytes the process sent */
};

enum tls_func {
	TLS_FN_SSL_READ = 0,
	TLS_FN_SSL_WRITE = 1,
	TLS_FN_SSL_READ_EX = 2,
	TLS_FN_SSL_WRITE_EX = 3,
};

/* How the socket of an SSL object was found. */
enum tls_fd_source {
	TLS_FD_UNKNOWN = 0,	/* not known (yet): the data event carries fd -1 */
	TLS_FD_INSIDE_CALL = 1, /* socket syscall inside the SSL call, same thread (socket BIO) */
	TLS_FD_PRIOR_READ = 2,	/* the thread's socket read before SSL_read (memory BIO, Node) */
	TLS_FD_NEXT_WRITE = 3,	/* the thread's socket write after SSL_write (memory BIO, Node) */
	TLS_FD_CACHED = 4,	/* the SSL object's earlier association, still current */
};

/* The prefix of every record. */
struct tls_event_head {
	__u64 ts_ns; /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
	__u32 type;  /* enum tls_event_type */
	__u32 tgid;
};
FS_STATIC_ASSERT(sizeof(struct tls_event_head) == 16,
		 "tls_event_head layout is shared with TypeScript");

/* One SSL_read/SSL_write that moved bytes; `cap_len` payload bytes follow the struct. */
struct tls_data_event {
	__u64 ts_ns; /* when the call returned */
	__u32 type;  /* TLS_EV_DATA */
	__u32 tgid;
	/*
	 * When an SSL_write was entered (its bytes exist from then). For an SSL_read, the same as
	 * ts_ns: its bytes exist from its return, and its entry time is not read.
	 */
	__u64 start_ns;
	__u64 ssl; /* the SSL object's address in the process */
	__u32 tid;
	__u32 len;     /* bytes the call read or wrote */
	__u32 cap_len; /* bytes captured: min(len, TLS_MAX_CAPTURE), or 0 if unreadable */
	__s32 fd;      /* the socket, or -1 when not known yet (a TLS_EV_CONN follows) */
	__u32 gen;     /* generation of (tgid, fd): bumped on each close of that fd */
	/*
	 * A read that starts an HTTP request (its first bytes are a method and a target): the id
	 * the thread's request context got for it, which the profile samples of the thread carry
	 * while it serves the request (see request-context.h). 0 for any other call.
	 */
	__u32 request_id;
	__u8 dir;	/* enum tls_direction */
	__u8 func;	/* enum tls_func */
	__u8 fd_source; /* enum tls_fd_source */
	__u8 __pad;
	__u32 __pad2;
};
FS_STATIC_ASSERT(sizeof(struct tls_data_event) == 64,
		 "tls_data_event layout is shared with TypeScript");

/* An SSL object tied to (tgid, fd, gen), with the socket's addresses when it is TCP. */
struct tls_conn_event {
	__u64 ts_ns;
	__u32 type; /* TLS_EV_CONN */
	__u32 tgid;
	__u64 ssl;
	__s32 fd;
	__u32 gen;
	__u16 family;	/* AF_INET, AF_INET6, or 0 when the socket could not be read */
	__u16 lport;	/* host byte order */
	__u16 rport;	/* host byte order */
	__u8 fd_source; /* enum tls_fd_source */
	__u8 __pad;
	__u8 laddr[16]; /* IPv4 in the first 4 bytes; network byte order */
	__u8 raddr[16];
};
FS_STATIC_ASSERT(sizeof(struct tls_conn_event) == 72,
		 "tls_conn_event layout is shared with TypeScript");

/* A socket that an SSL object was tied to was closed: its (tgid, fd, gen) connection is over. */
struct tls_close_event {
	__u64 ts_ns;
	__u32 type; /* TLS_EV_CLOSE */
	__u32 tgid;
	__s32 fd;
	__u32 gen; /* the generation that ended */
};
FS_STATIC_ASSERT(sizeof(struct tls_close_event) == 24,
		 "tls_close_event layout is shared with TypeScript");

/*
 * A process exec'd (every one: user space decides whether it is a target) or a TLS process
 * exited.
 */
struct tls_proc_event {
	__u64 ts_ns;
	__u32 type; /* TLS_EV_EXEC or TLS_EV_EXIT */
	__u32 tgid;
	char comm[TLS_COMM_LEN];
};
FS_STATIC_ASSERT(sizeof(struct tls_proc_event) == 32,
		 "tls_proc_event layout is shared with TypeScript");

/* Indices into the per-CPU counters map: every way data can be lost is counted. */
enum tls_counter {
	TLS_CALLS = 0,	  /* SSL calls that returned bytes */
	TLS_BYTES,	  /* bytes those calls moved */
	TLS_DATA_LOST,	  /* data events the ring buffer had no room for */
	TLS_CONTROL_LOST, /* conn/close/exec/exit events the ring buffer had no room for */
	TLS_TRUNCATED,	  /* calls that moved more than TLS_MAX_CAPTURE bytes */
	TLS_READ_FAILED,  /* payload or byte count could not be read from user memory */
	TLS_NO_ENTRY,	  /* a return with bytes but no entry (mid-attach, nesting, map full) */
	TLS_ACTIVE_FULL,  /* in-flight call slot held by another thread's call: a call is lost */
	TLS_CONN_FULL,	  /* connection map full: an association is lost */
	/* request context map full: a thread's request is not attributed to its samples */
	TLS_REQUEST_CONTEXT_FULL,
	/* more requests open on one thread than it has slots: the oldest is forgotten */
	TLS_REQUEST_SLOTS_FULL,
	/*
	 * a response started on a thread that holds no open request of its connection (a thread
	 * pool answering what another thread read): the thread's CPU for it is not attributed
	 */
	TLS_RESPONSE_UNMATCHED,
	/*
	 * a thread's slot of per-thread socket notes (threads map) taken by another thread of the
	 * same slot: a Node (memory BIO) call is not tied to its socket through that note
	 */
	TLS_THREADS_FULL,
	TLS_COUNTER_MAX,
};

#endif /* FIRESIGHT_TLS_H */
