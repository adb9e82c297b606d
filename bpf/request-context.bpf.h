/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The per-thread request context map (layout in request-context.h), declared the same way in
 * every object that uses it. The addon creates the map once and reuses its fd in each object
 * before load (native/src/request-context.cc), so the tls and profile programs see one map.
 */
#ifndef FIRESIGHT_REQUEST_CONTEXT_BPF_H
#define FIRESIGHT_REQUEST_CONTEXT_BPF_H

#include "request-context.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(key_size, sizeof(__u32)); /* thread id */
	__uint(value_size, sizeof(struct request_context));
	__uint(max_entries, REQUEST_CONTEXT_ENTRIES);
} request_contexts SEC(".maps");

/* What a sample of thread tid is stamped with (see request_context.current); 0 for none. */
static __always_inline __u32 request_current(__u32 tid)
{
	struct request_context *rc = bpf_map_lookup_elem(&request_contexts, &tid);

	return rc ? rc->current : 0;
}

#endif /* FIRESIGHT_REQUEST_CONTEXT_BPF_H */
