/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * profile: stack samples on the cpu-clock software event, counted in kernel maps.
 * Shared by profile.bpf.c, the addon (native/src/profiler.cc) and the TypeScript decoder
 * (native/src/profile-records.ts); golden-byte tests pin the layout.
 */
#ifndef FIRESIGHT_PROFILE_H
#define FIRESIGHT_PROFILE_H

#include "shared.h"

#define PROFILE_COMM_LEN	16
#define PROFILE_MAX_STACK_DEPTH 127

/* The sample aggregation key. Largest fields first, no implicit padding. */
struct profile_key {
	__u32 pid;		     /* tgid: the process */
	__s32 user_stack_id;	     /* id in the stack map, or a negative errno */
	__s32 kern_stack_id;	     /* id in the stack map, or a negative errno */
	__u32 request_id;	     /* the thread's request (request-context.h), or 0 for none */
	char comm[PROFILE_COMM_LEN]; /* thread name, as perf shows it */
};
FS_STATIC_ASSERT(sizeof(struct profile_key) == 32, "profile_key layout is shared with TypeScript");

/* One record of a drained batch: the key and its sample count. */
struct profile_count {
	struct profile_key key;
	__u64 count;
};
FS_STATIC_ASSERT(sizeof(struct profile_count) == 40,
		 "profile_count layout is shared with TypeScript");

/*
 * One stack of a drained batch: this header, then `nr` __u64 instruction pointers, leaf first.
 * The addon writes these from the stack map, for the ids the batch's counts refer to.
 */
struct profile_stack_head {
	__s32 id; /* the stack map id that profile_key's stack ids name */
	__u32 nr; /* instruction pointers that follow */
};
FS_STATIC_ASSERT(sizeof(struct profile_stack_head) == 8,
		 "profile_stack_head layout is shared with TypeScript");

/*
 * Indices into the per-CPU counters map (one set per buffer, at buf * PROFILE_COUNTER_MAX): every
 * way a sample can be lost is counted.
 */
enum profile_counter {
	PROFILE_SAMPLES = 0,	      /* samples taken (all of them, kept or not) */
	PROFILE_USER_STACK_MISSING,   /* user stack could not be walked */
	PROFILE_KERNEL_STACK_MISSING, /* kernel stack could not be walked */
	PROFILE_STACK_COLLISIONS,     /* stack map bucket held another stack (-EEXIST) */
	PROFILE_COUNTS_MAP_FULL,      /* counts map full: the sample is lost */
	/*
	 * Walks with unwind tables ('dwarf' and 'auto' modes): why a user stack ended before its
	 * outermost frame, one count per walk. Where 'auto' goes on with frame pointers (no
	 * mapping, no table, a gap) nothing is counted. A pc in no mapping also puts its process in
	 * the window's unmapped pids, in both modes, so the collector rescans it (unless it is in
	 * anonymous executable memory: JIT code, walked by frame pointers as described JIT code is).
	 */
	PROFILE_UNWIND_NO_MAPPING,    /* a pc in no known mapping ('dwarf') */
	PROFILE_UNWIND_NO_TABLE,      /* the file's table is not loaded, or no FDE covers the pc */
	PROFILE_UNWIND_LOOKUP_FAILED, /* a row or rule the file's range names is not in the maps */
	PROFILE_UNWIND_READ_FAULT,    /* a read of the user stack faulted, in any step */
	PROFILE_UNWIND_TOO_DEEP,      /* PROFILE_MAX_STACK_DEPTH frames and more to go */
	PROFILE_UNWIND_MAPPINGS_FULL, /* a pc past what a truncated process entry kept */
	PROFILE_UNWIND_STACKS_FULL,   /* no room in the hashed stacks: the stack is lost */
	/* A rule the walker cannot evaluate (a DWARF expression); 'auto' goes on with frame pointers. */
	PROFILE_UNWIND_RULE_UNSUPPORTED,
	/* A table step that would not move up the stack (a loop that would run until too deep). */
	PROFILE_UNWIND_NO_PROGRESS,
	/*
	 * A frame-pointer step from a frame at or below the stack pointer: code that keeps no frame
	 * pointer (rbp holds data), reached by frame pointers where no table covers it.
	 */
	PROFILE_UNWIND_FRAME_POINTER_LOST,
	/*
	 * A stack walked before the tables it needed were loaded: a process not described yet (a new
	 * one, or one that just exec'd), a file mapped since its process was read (JIT code mapped
	 * since has no table, and is walked by frame pointers uncounted), or a file whose table is
	 * still being built. 'auto' walks on by frame pointers, but cannot tell whether that
	 * code keeps them, so each such stack counts as possibly cut short; 'dwarf' stops there.
	 */
	PROFILE_UNWIND_TABLE_PENDING,
	/*
	 * Not a loss: a sample whose walk would have ended pending, copied (registers and the top of
	 * its user stack) into the deferred ring for the collector to walk again once the tables are in.
	 */
	PROFILE_UNWIND_DEFERRED,
	/* The deferred ring was full: the sample is kept as walked, possibly cut short. */
	PROFILE_UNWIND_DEFER_RING_FULL,
	/*
	 * Counted by the collector, never by the kernel: deferred samples it had no room to hold,
	 * walked at once (a pending end counts as PROFILE_UNWIND_TABLE_PENDING). Here so that one
	 * name and one slot carry it end to end.
	 */
	PROFILE_UNWIND_DEFER_QUEUE_FULL,
	/*
	 * A deferred sample of a process that exited before the collector could read its mappings
	 * (most often a program that ran for less than the poll for new processes): walked on its
	 * last try by frame pointers, as a pending one, but its code could never have been described,
	 * nor its frames named. Counted in place of PROFILE_UNWIND_TABLE_PENDING.
	 */
	PROFILE_UNWIND_PROCESS_EXITED,
	/*
	 * Not a loss either: a deferred sample whose process exec'd before its replay. The tables
	 * (and the mappings the collector reads) are the new program's, so its walk can never find
	 * its own: walked by frame pointers only, as at the sample, its frames marked as before the
	 * exec. Counted in place of PROFILE_UNWIND_TABLE_PENDING.
	 */
	PROFILE_UNWIND_PROCESS_EXECED,
	/*
	 * A uretprobe's trampoline that neither the task's return instances nor the tls tool's
	 * notes (probed-return.h) account for: sampled as the kernel swaps it in at a probed
	 * function's entry, or writes the real return address back at its return, where the probe
	 * is another tool's (the tls tool notes its own), the task changed CPUs in between, or the
	 * sample is a deferred copy (which keeps the return instances only). perf's walk is cut
	 * there too: the stack ends there, and is not walked again. (As the pc, the trampoline's
	 * own instructions lead to the real return address.)
	 */
	PROFILE_UNWIND_URETPROBE_TRAMPOLINE,
	/*
	 * A table step that read a zero return address where the frame's rule does not say it is
	 * the outermost one (as _start's, a thread's start's and Go's TOPFRAME functions' do). The
	 * walk ends there, as perf's does, but the stack may be cut: a wrong rule reads a zero
	 * slot the same way. Code whose unwind info leaves its first frame unmarked counts here too.
	 */
	PROFILE_UNWIND_ZERO_RETURN,
	PROFILE_COUNTER_MAX,
};

/*
 * Bytes of user stack a deferred sample keeps, from its stack pointer up: about the most perf's
 * --call-graph dwarf takes (65528), as the walk must reach the outermost frame, not only most of
 * the stack (a Node server's stack is often deeper than 16 KiB), and a copy is taken only in the
 * first tens of milliseconds of a process or a mapping. Less is kept where the stack's mapping
 * ends sooner, and the ring holds only what was kept.
 */
#define PROFILE_DEFER_STACK_BYTES 65536
/* Pending uretprobes a deferred sample keeps the real return addresses of. */
#define PROFILE_DEFER_URETPROBES 4

/*
 * One deferred sample, as the ring holds it and as the replay program reads it back: what the
 * walk starts from, the kernel stack as walked at the sample, and the copied user stack.
 */
struct profile_deferred {
	__u64 pc; /* the user ip the walk starts at (after uprobe_state's correction) */
	__u64 sp; /* the user stack pointer: stack[0] is the byte at this address */
	__u64 bp;
	__u64 r11;	  /* the interrupted r11, when r11_known */
	__u32 pid;	  /* tgid */
	__u32 request_id; /* as profile_key's */
	__u32 kern_nr;	  /* kernel ips in kern_ips, leaf first */
	__u32 stack_len;  /* bytes of stack that were read (0 to PROFILE_DEFER_STACK_BYTES) */
	__u32 r11_known;
	__u32 rax_known;
	char comm[PROFILE_COMM_LEN];
	__u64 kern_ips[PROFILE_MAX_STACK_DEPTH];
	/*
	 * The task's pending uretprobes at the sample: the trampoline address they put in place of
	 * return addresses, and the real ones, innermost first (gone by the replay: see real_return).
	 */
	__u64 uretprobe_trampoline;
	__u64 uretprobe_returns[PROFILE_DEFER_URETPROBES];
	__u32 uretprobe_nr;
	/*
	 * The process's exec generation at the sample (profile.bpf.c's exec_seqs; 0: no exec seen):
	 * a replay that finds another knows the address space the sample was taken in is gone.
	 */
	__u32 exec_seq;
	__u64 rax; /* the interrupted rax, when rax_known */
	__u64 rbx; /* the interrupted rbx, when rbx_known */
	__u32 rbx_known;
	__u32 reserved;
	__u8 stack[PROFILE_DEFER_STACK_BYTES];
};
FS_STATIC_ASSERT(sizeof(struct profile_deferred) == 72 + 8 * PROFILE_MAX_STACK_DEPTH + 40 +
							    8 * PROFILE_DEFER_URETPROBES +
							    PROFILE_DEFER_STACK_BYTES,
		 "profile_deferred layout is shared with TypeScript");

/* What the replay program answers, in profile_replay.status. */
enum profile_replay_status {
	/* Walked: the user stack is in ips, its end counted. */
	PROFILE_REPLAY_DONE = 0,
	/* Its tables are still not all in: nothing counted, try later. */
	PROFILE_REPLAY_PENDING = 1,
};

/*
 * The replay program's one slot (an array map of one entry): the collector writes the deferred
 * sample and whether this is its last try, runs the program, and reads status and out back.
 */
struct profile_replay {
	struct profile_deferred rec;
	__u32 last_try; /* walk and count even if still pending, as the sample would have been */
	__u32 status;	/* enum profile_replay_status */
	__u32 nr;	/* user ips in ips, leaf first */
	__u32 exited;	/* on the last try: the process is gone (PROFILE_UNWIND_PROCESS_EXITED) */
	__u32 execed; /* out: the process exec'd since the sample (PROFILE_UNWIND_PROCESS_EXECED) */
	__u32 __pad;
	__u64 ips[PROFILE_MAX_STACK_DEPTH];
};

#endif /* FIRESIGHT_PROFILE_H */
