/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * request context: which HTTP request each thread is serving, shared by the tls tool (which
 * writes it when a thread reads a request and writes its response) and the profile tool (which
 * stamps each sample with it). The map is made once by the addon (native/src/request-context.cc)
 * and handed to both objects before they load, so its definition here must match what the addon
 * creates.
 */
#ifndef FIRESIGHT_REQUEST_CONTEXT_H
#define FIRESIGHT_REQUEST_CONTEXT_H

#include "shared.h"

/* Threads with a request context at once; past it a thread's requests are counted, not kept. */
#define REQUEST_CONTEXT_ENTRIES 65536
/* Requests one thread can hold open (read, not answered); past it the oldest is forgotten. */
#define REQUEST_SLOTS 8
/* Set in a stamped id when several requests were open on the thread: the id is the newest's. */
#define REQUEST_AMBIGUOUS 0x80000000U
#define REQUEST_ID_MASK	  0x7fffffffU

/* A request its thread read and has not answered yet. */
struct request_slot {
	__u64 ssl; /* the SSL object (connection) it came on */
	__u32 id;  /* 1..REQUEST_ID_MASK, from the tls tool's counter */
	__s32 fd;  /* its socket, or -1 when not known: a close of it ends the request */
};
FS_STATIC_ASSERT(sizeof(struct request_slot) == 16, "request_slot layout is shared with C++");

/* The value per thread id. */
struct request_context {
	/*
	 * What a sample on this thread is stamped with: the newest open request's id, with
	 * REQUEST_AMBIGUOUS when several are open; 0 when none is. Kept ready so that the profile
	 * program does one lookup and one load.
	 */
	__u32 current;
	__u32 open; /* slots in use, oldest first */
	struct request_slot slots[REQUEST_SLOTS];
};
FS_STATIC_ASSERT(sizeof(struct request_context) == 8 + 16 * REQUEST_SLOTS,
		 "request_context layout is shared with C++");

#endif /* FIRESIGHT_REQUEST_CONTEXT_H */
