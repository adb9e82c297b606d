/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The optional process filter of the tools that trace user processes: the addon sets filter_pids
 * before load and puts the tgids to keep into `pids` after it (native/src/pid-filter.cc).
 */
#ifndef FIRESIGHT_PIDS_BPF_H
#define FIRESIGHT_PIDS_BPF_H

/* Set by the addon before load: only the tgids in `pids` are traced. */
const volatile bool filter_pids = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);  /* tgid */
	__type(value, __u8); /* unused: the keys are the set */
	__uint(max_entries, 1024);
} pids SEC(".maps");

/* Whether the filter keeps tgid: always when there is no filter. */
static __always_inline bool pid_selected(__u32 tgid)
{
	return !filter_pids || bpf_map_lookup_elem(&pids, &tgid);
}

#endif /* FIRESIGHT_PIDS_BPF_H */
