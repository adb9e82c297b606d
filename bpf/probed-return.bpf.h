/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The probed return map (layout and why in probed-return.h), declared the same way in every
 * object that uses it: the addon creates it once and reuses its fd in each object before load.
 */
#ifndef FIRESIGHT_PROBED_RETURN_BPF_H
#define FIRESIGHT_PROBED_RETURN_BPF_H

#include "probed-return.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct probed_return));
	__uint(max_entries, 1);
} probed_return SEC(".maps");

static __always_inline struct probed_return *probed_return_slot(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&probed_return, &zero);
}

/* In a uprobe program at a function's entry: its return address, still at the stack pointer. */
static __always_inline void probed_return_at_entry(struct pt_regs *regs)
{
	struct probed_return *p = probed_return_slot();

	if (!p)
		return;
	p->pid_tgid = bpf_get_current_pid_tgid();
	p->func = PT_REGS_IP(regs);
	p->slot = PT_REGS_SP(regs);
	if (bpf_probe_read_user(&p->ret, sizeof(p->ret), (void *)p->slot))
		p->ret = 0;
}

/*
 * In a uretprobe program: the kernel has put the real return address in the ip, and the stack
 * pointer past its slot, for the programs.
 */
static __always_inline void probed_return_at_return(struct pt_regs *regs)
{
	struct probed_return *p = probed_return_slot();

	if (!p)
		return;
	p->pid_tgid = bpf_get_current_pid_tgid();
	p->func = 0;
	p->slot = PT_REGS_SP(regs) - 8;
	p->ret = PT_REGS_IP(regs);
}

/*
 * The real return address in `slot` of this thread's call noted at the entry of the function at
 * `func`, or at its return (func 0); 0 when none was.
 */
static __always_inline __u64 probed_return_find(__u64 func, __u64 slot)
{
	struct probed_return *p = probed_return_slot();

	if (!p || p->pid_tgid != bpf_get_current_pid_tgid() || p->func != func || p->slot != slot)
		return 0;
	return p->ret;
}

#endif /* FIRESIGHT_PROBED_RETURN_BPF_H */
