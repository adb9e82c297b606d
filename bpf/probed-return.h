/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * probed return: the real return address of a call the tls tool's uprobes caught, noted where the
 * kernel keeps it nowhere a sample can read. The uretprobe trampoline stands in for a probed
 * function's return address from its entry to its return, and the task's return instances name
 * the real one, but not in two short windows:
 *  - at the entry, after the entry programs run, the kernel swaps in the trampoline and only then
 *    notes the real address in a return instance;
 *  - at the return (the uretprobe syscall since 6.11), the kernel takes the return instance, runs
 *    the return programs, and only then writes the real address back to the stack.
 * A sample in either found the trampoline and nothing naming it (perf's walk is cut there). The
 * tls tool's programs note the address here first, and the profile tool's walk takes it from here
 * in those windows. The map is made once by the addon (native/src/shared-map.cc) and handed to
 * both objects before they load, so its definition here must match what the addon creates.
 */
#ifndef FIRESIGHT_PROBED_RETURN_H
#define FIRESIGHT_PROBED_RETURN_H

#include "shared.h"

/* The newest probed call's entry or return on a CPU: a sample in a window is taken on that CPU. */
struct probed_return {
	__u64 pid_tgid; /* the calling thread */
	__u64 func;	/* the probed function's entry; 0 when noted at its return */
	__u64 slot;	/* where the return address is: the stack pointer at the function's entry */
	__u64 ret;	/* the real return address */
};
FS_STATIC_ASSERT(sizeof(struct probed_return) == 32, "probed_return layout is shared with C++");

#endif /* FIRESIGHT_PROBED_RETURN_H */
