// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * profile: samples the stacks of every process on the cpu-clock software event (one perf event
 * per CPU, opened by the addon) and counts them in kernel maps.
 *
 * The maps are double-buffered: the collector flips `active_buf`, waits out programs already
 * running, then drains the idle buffer with lookup-and-delete. A sample is counted in exactly one
 * window, never lost between read and clear and never read twice.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "counters.bpf.h"
#include "errno.bpf.h"
#include "pids.bpf.h"
#include "profile.h"

const volatile bool include_idle = false;

/* Written by the collector through the mmapped .bss: which buffer samples go to. */
__u32 active_buf = 0;

struct stack_map {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, PROFILE_MAX_STACK_DEPTH * sizeof(__u64));
	__uint(max_entries, 16384);
};

struct count_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct profile_key);
	__type(value, __u64);
	__uint(max_entries, 16384);
};

struct stack_map stacks0 SEC(".maps"), stacks1 SEC(".maps");
struct count_map counts0 SEC(".maps"), counts1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 2 * PROFILE_COUNTER_MAX);
} counters SEC(".maps");

/* Counters are kept per buffer, so each drained window carries exactly its own. */
static __always_inline void count(__u32 buf, __u32 counter)
{
	percpu_counter_add(&counters, buf * PROFILE_COUNTER_MAX + counter, 1);
}

static __always_inline int record(void *ctx, __u32 buf, struct profile_key *key, void *stacks,
				  void *counts)
{
	static const __u64 one = 1;
	__u64 *val;

	key->kern_stack_id = bpf_get_stackid(ctx, stacks, 0);
	key->user_stack_id = bpf_get_stackid(ctx, stacks, BPF_F_USER_STACK);

	if (key->kern_stack_id == -EEXIST || key->user_stack_id == -EEXIST)
		count(buf, PROFILE_STACK_COLLISIONS);
	/* -EFAULT on the user stack is a kernel thread, which has none: not a loss. */
	if (key->user_stack_id < 0 && key->user_stack_id != -EFAULT &&
	    key->user_stack_id != -EEXIST)
		count(buf, PROFILE_USER_STACK_MISSING);
	if (key->kern_stack_id < 0 && key->kern_stack_id != -EFAULT &&
	    key->kern_stack_id != -EEXIST)
		count(buf, PROFILE_KERNEL_STACK_MISSING);

	val = bpf_map_lookup_elem(counts, key);
	if (val) {
		__sync_fetch_and_add(val, 1);
		return 0;
	}
	if (bpf_map_update_elem(counts, key, &one, BPF_NOEXIST) == 0)
		return 0;
	/* Another CPU inserted the same key first: add to it. Otherwise the map is full. */
	val = bpf_map_lookup_elem(counts, key);
	if (val)
		__sync_fetch_and_add(val, 1);
	else
		count(buf, PROFILE_COUNTS_MAP_FULL);
	return 0;
}

SEC("perf_event")
int do_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct profile_key key = {};
	__u32 buf = active_buf ? 1 : 0;

	key.pid = id >> 32;
	if (!include_idle && (__u32)id == 0)
		return 0;
	if (!pid_selected(key.pid))
		return 0;
	count(buf, PROFILE_SAMPLES);
	bpf_get_current_comm(&key.comm, sizeof(key.comm));

	if (buf)
		return record(ctx, 1, &key, &stacks1, &counts1);
	return record(ctx, 0, &key, &stacks0, &counts0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
