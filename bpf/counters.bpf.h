/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Loss and event counters: per-CPU arrays of u64 that the addon sums over CPUs. */
#ifndef FIRESIGHT_COUNTERS_BPF_H
#define FIRESIGHT_COUNTERS_BPF_H

/* Adds n to slot idx of a BPF_MAP_TYPE_PERCPU_ARRAY of __u64. */
static __always_inline void percpu_counter_add(void *map, __u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(map, &idx);

	if (c)
		*c += n; /* per-CPU: no other writer */
}

#endif /* FIRESIGHT_COUNTERS_BPF_H */
