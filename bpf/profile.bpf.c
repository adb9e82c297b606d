// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * profile: samples the stacks of every process on the cpu-clock software event (one perf event
 * per CPU, opened by the addon) and counts them in kernel maps.
 *
 * The maps are double-buffered: the collector flips `active_buf`, waits out programs already
 * running, then drains the idle buffer with lookup-and-delete. A sample is counted in exactly one
 * window, never lost between read and clear and never read twice.
 *
 * User stacks are walked with frame pointers by bpf_get_stackid ('fp' mode), or with the unwind
 * tables the collector loads (.eh_frame rules per file, executable mappings per process) by the
 * walker below ('dwarf' and 'auto' modes), one frame per bpf_loop iteration.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "counters.bpf.h"
#include "errno.bpf.h"
#include "pids.bpf.h"
#include "probed-return.bpf.h"
#include "profile.h"
#include "request-context.bpf.h"
#include "unwind.h"

#define ENOENT 2
#define ENOSPC 28
/* walk_user's answer for a stack whose walk would end pending: copy it for later instead. */
#define WALK_DEFER (-115) /* -EINPROGRESS */
/* include/linux/mm.h: not in BTF, a define; the same value on every kernel. */
#define VM_EXEC 0x00000004

_Static_assert(UNWIND_MAX_DEPTH == PROFILE_MAX_STACK_DEPTH,
	       "walked stacks are as deep as the stack map's");

const volatile bool include_idle = false;
const volatile __u32 unwind_mode = UNWIND_MODE_FP;
/* Samples whose walk would end pending go to the deferred ring (a collector replays them). */
const volatile bool defer_pending = false;

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

/*
 * Unwind tables: every file's rows in one array and its rules in another, at ranges the addon
 * allocates (unwind_files says where); each process's executable mappings, sorted. Sizes are set
 * at load; the 'fp' mode shrinks them all to one entry.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct unwind_row);
	__uint(max_entries, 1);
} unwind_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct unwind_rule);
	__uint(max_entries, 1);
} unwind_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct unwind_file);
	__uint(max_entries, 1);
} unwind_files SEC(".maps");

/* 8 KiB a process: allocated when the collector sets it, not up front. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct unwind_process);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} unwind_procs SEC(".maps");

/*
 * Stacks by an id from their hash (UNWIND_STACK_ID_BIT | hash bits), double-buffered like the
 * counts: in the 'dwarf' and 'auto' modes every stack, user and kernel, goes here, so no two
 * stacks fight over a stack-trace map bucket (-EEXIST). Preallocated, as the stack-trace maps
 * are: an allocation in the sampling interrupt can fail when a burst of new stacks empties the
 * allocator's per-CPU cache.
 */
struct hashed_stack_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct unwind_stack);
	__uint(max_entries, 1);
};

/* Processes whose samples met a user pc in no known mapping this window. */
struct pid_set {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
};

struct hashed_stack_map hashed_stacks0 SEC(".maps"), hashed_stacks1 SEC(".maps");
struct pid_set unmapped0 SEC(".maps"), unmapped1 SEC(".maps");

/*
 * Samples whose walk would have ended pending (their process not described yet, or a table not
 * loaded yet), copied for the collector: it walks them again with replay_deferred once their
 * tables are in, so that a new process's first samples keep their whole stacks. Read at each
 * drain, so no wake-ups. Its size is set at load.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} deferred SEC(".maps");

/*
 * Where a deferred sample is assembled, so that the ring gets only the stack bytes that were read
 * (a shallow stack is a few KiB of its 64): more copies fit the ring while processes start. A
 * slot per CPU, indexed by the CPU: a per-CPU map's values are limited to 32 KiB. Its size is
 * set at load to the number of possible CPUs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct profile_deferred);
	__uint(max_entries, 1);
} defer_scratch SEC(".maps");

/*
 * Each process's exec generation: its execs since load (no entry: none seen). A deferred sample
 * carries its process's, and a replay that finds another knows the address space it was sampled
 * in is gone, its tables with it. Read from the same map at the sample and at the replay, a pid
 * used again by another process reads the same generation in both; an entry evicted meanwhile
 * reads as unknown, never as an exec. Sized for the execs of the longest wait of a deferred
 * sample on a host that runs hundreds of programs a second.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 16384);
} exec_seqs SEC(".maps");

/* replay_deferred's one slot: a deferred sample in, its walked user stack out. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct profile_replay);
	__uint(max_entries, 1);
} replay SEC(".maps");

/*
 * What a walk knows of rax and r11, which the CFA rules of hand-written assembly name: nothing;
 * the frame's own, in the leaf (as the sample, or the kernel's entry, saw them); or, in the leaf's
 * caller, what the leaf left there, as libgcc's and libunwind's walks take a register that no rule
 * restores (DWARF's "same value"). OpenSSL's aesni_gcm_decrypt keeps its entry rsp in rax across
 * its call to _aesni_ctr32_ghash_6x, which leaves rax alone. A callee that does not leaves the
 * rule a wrong return address, which called_from() tells.
 */
#define REG_UNKNOWN 0
#define REG_OWN	    1
#define REG_CALLEE  2

/* One walk in progress on this CPU: too big for the BPF stack. */
struct walk_state {
	struct unwind_stack stack;
	__u64 pc;
	__u64 sp;
	__u64 bp;
	__u64 r11; /* r11, as r11_known says */
	__u64 rax; /* rax, as rax_known says */
	/*
	 * rbx while rbx_known: the leaf's own, and in each caller what the rules of the frames below
	 * it say their function saved (rbx is callee-saved: where no rule says, the callee left it).
	 */
	__u64 rbx;
	/* Where the walk started: what a deferred copy of the sample starts from. */
	__u64 pc0;
	__u64 sp0;
	__u64 bp0;
	__u64 rbx0;
	/*
	 * Pending uretprobes: the trampoline address they put in place of return addresses, and the
	 * next of the task's return instances (struct return_instance *), which hold the real ones;
	 * in a replay, how many of the copy's real return addresses the walk has taken.
	 */
	__u64 uretprobe_trampoline;
	__u64 return_instance;
	__u64 return_instance0; /* the first one the walk may take: a deferred copy's first */
	/*
	 * The real return address of a probed function sampled at its entry as the kernel swaps in
	 * the trampoline, before any return instance holds it (see swap_window); 0 when none or once
	 * taken. It is the innermost pending one: the walk takes it before the return instances. (A
	 * deferred copy of the sample does not keep it: its replay ends at the trampoline, counted.)
	 */
	__u64 entry_return;
	__u32 tgid;
	__u32 buf;
	__u32 lo; /* binary search bounds */
	__u32 hi;
	__u32 stop_reason; /* the counter of the walk's end, while counted */
	__u8 exact_pc; /* pc is where the thread was (leaf, signal-interrupted), not a return address */
	__u8 reliable; /* pc came from registers or a table rule, not from a frame-pointer guess */
	/* Walking by frame pointers because a table is not loaded yet, until a table step succeeds. */
	__u8 pending;
	/* Some frame was found by frame pointers for want of a table: the stack is a guess. */
	__u8 guessed;
	/* The walk ended with a counted reason. */
	__u8 counted;
	__u8 r11_known; /* what r11 holds (REG_UNKNOWN, REG_OWN, REG_CALLEE) */
	/* The kernel was asked once in this walk what memory a pc is in (bpf_find_vma). */
	__u8 vma_asked;
	/* A deferred sample walked again: the stack is read from its copy, not from the task. */
	__u8 replay;
	__u8 r11_known0; /* r11_known where the walk started */
	__u8 rax_known0; /* rax_known where the walk started */
	/*
	 * The address space the sample was taken in is gone (its process exec'd): the process's
	 * mappings and tables now are another program's, and none of them applies.
	 */
	__u8 no_tables;
	__u8 rax_known; /* what rax holds (REG_UNKNOWN, REG_OWN, REG_CALLEE) */
	__u8 rbx_known;
	__u8 rbx_known0; /* rbx_known where the walk started */
	__u8 __pad[2];
};

/* walk_scratch's slots: a sample's walk, and a replay's (which a sample may interrupt). */
#define WALK_SAMPLE 0
#define WALK_REPLAY 1

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct walk_state);
	__uint(max_entries, 2);
} walk_scratch SEC(".maps");

/* Counters are kept per buffer, so each drained window carries exactly its own. */
static __always_inline void count(__u32 buf, __u32 counter)
{
	percpu_counter_add(&counters, buf * PROFILE_COUNTER_MAX + counter, 1);
}

static __always_inline void mark_unmapped(__u32 buf, __u32 tgid)
{
	static const __u32 one = 1;

	/* A full set drops the pid for this window only: its next sample reports it again. */
	bpf_map_update_elem(buf ? (void *)&unmapped1 : (void *)&unmapped0, &tgid, &one, BPF_ANY);
}

/*
 * The binary searches keep their bounds in the walk state (map memory), not in registers: the
 * verifier then sees them as any value in range instead of following every path of every
 * search with exact numbers, which would never end.
 */

/* The mapping holding pc, by a bounded binary search over the sorted mappings. */
static __always_inline struct unwind_mapping *find_mapping(struct walk_state *st,
							   struct unwind_process *proc, __u64 pc)
{
	__u32 mid;

	st->lo = 0;
	st->hi = proc->nr < UNWIND_MAX_MAPPINGS ? proc->nr : UNWIND_MAX_MAPPINGS;
	for (int k = 0; k < UNWIND_MAPPING_SEARCH_STEPS; k++) {
		if (st->lo >= st->hi)
			break;
		/* The mask restates for the verifier what the search keeps true: mid < MAX. */
		mid = (st->lo + (st->hi - st->lo) / 2) & (UNWIND_MAX_MAPPINGS - 1);
		if (proc->mappings[mid].start <= pc)
			st->lo = mid + 1;
		else
			st->hi = mid;
	}
	if (st->lo == 0)
		return NULL;
	mid = (st->lo - 1) & (UNWIND_MAX_MAPPINGS - 1);
	if (pc >= proc->mappings[mid].end)
		return NULL;
	return &proc->mappings[mid];
}

/*
 * The rule of the last row at or below rel (a file offset from the table's base), by a bounded
 * binary search over the file's rows, that row's pc left in st->hi. *gap is set when no row
 * covers it.
 */
static __always_inline struct unwind_rule *find_rule(struct walk_state *st,
						     struct unwind_file *file, __u64 rel, bool *gap)
{
	__u32 mid, key;
	struct unwind_row *row;

	*gap = false;
	if (rel > 0xffffffffULL) {
		*gap = true;
		return NULL;
	}
	st->lo = 0;
	st->hi = file->row_count;
	for (int k = 0; k < UNWIND_ROW_SEARCH_STEPS; k++) {
		if (st->lo >= st->hi)
			break;
		mid = st->lo + (st->hi - st->lo) / 2;
		key = file->row_start + mid;
		row = bpf_map_lookup_elem(&unwind_rows, &key);
		if (!row)
			return NULL;
		if (row->pc <= (__u32)rel)
			st->lo = mid + 1;
		else
			st->hi = mid;
	}
	if (st->lo == 0) {
		*gap = true;
		return NULL;
	}
	key = file->row_start + st->lo - 1;
	row = bpf_map_lookup_elem(&unwind_rows, &key);
	if (!row)
		return NULL;
	st->hi = row->pc;
	key = row->rule;
	return bpf_map_lookup_elem(&unwind_rules, &key);
}

/*
 * A read of the copied stack of the sample being replayed: only what the copy holds, from the
 * sample's stack pointer up; anything else faults, as an unmapped address would.
 */
static __always_inline long replay_read(void *dst, __u32 size, __u64 addr)
{
	__u32 zero = 0;
	struct profile_replay *rp = bpf_map_lookup_elem(&replay, &zero);
	__u64 off;

	if (!rp || addr < rp->rec.sp)
		return -EFAULT;
	off = addr - rp->rec.sp;
	if (off + size > rp->rec.stack_len || rp->rec.stack_len > PROFILE_DEFER_STACK_BYTES)
		return -EFAULT;
	return bpf_probe_read_kernel(dst, size,
				     &rp->rec.stack[off & (PROFILE_DEFER_STACK_BYTES - 1)]);
}

/* A read of the walked thread's user stack: the task's own, or a replayed sample's copy of it. */
static __always_inline long stack_read(struct walk_state *st, void *dst, __u32 size, __u64 addr)
{
	if (st->replay)
		return replay_read(dst, size, addr);
	return bpf_probe_read_user(dst, size, (void *)addr);
}

/*
 * A pc in the uretprobe trampoline: the first of the kernel's slots in the task's uprobe page
 * (the others hold probed instructions run out of line). On x86-64 it is a few instructions
 * that enter the kernel, or an int3. A slot is the kernel's UPROBE_XOL_SLOT_BYTES.
 */
#define UPROBE_XOL_SLOT_BYTES 128
static __always_inline bool in_trampoline(struct walk_state *st)
{
	return st->uretprobe_trampoline &&
	       st->pc - st->uretprobe_trampoline < UPROBE_XOL_SLOT_BYTES;
}

/*
 * A return address as the caller left it: a uretprobe (the tls tool's on SSL_read, say) puts its
 * trampoline in place of the return address of the function it probes until that returns. The
 * task's return instances hold the real ones, innermost first, as perf's walks put them back.
 * False where the trampoline is one they do not account for (PROFILE_UNWIND_URETPROBE_TRAMPOLINE).
 */
static __always_inline bool real_return(struct walk_state *st, __u64 *ra)
{
	struct return_instance *ri = (struct return_instance *)st->return_instance;

	if (!st->uretprobe_trampoline || *ra != st->uretprobe_trampoline)
		return true;
	if (st->replay) {
		/* The copy's real return addresses: return_instance counts those taken. */
		__u32 zero = 0, k = st->return_instance;
		struct profile_replay *rp;

		rp = bpf_map_lookup_elem(&replay, &zero);
		if (!rp || k >= rp->rec.uretprobe_nr)
			return false;
		/* Kept for the verifier: the bound must be checked on k as it indexes. */
		asm volatile("" : "+r"(k));
		if (k >= PROFILE_DEFER_URETPROBES)
			return false;
		st->return_instance = k + 1;
		*ra = rp->rec.uretprobe_returns[k];
		return true;
	}
	if (st->entry_return) {
		*ra = st->entry_return;
		st->entry_return = 0;
		return true;
	}
	if (!ri)
		return false;
	st->return_instance = (__u64)BPF_CORE_READ(ri, next);
	*ra = BPF_CORE_READ(ri, orig_ret_vaddr);
	return true;
}

/* What a pc the collector has no mapping for lies in. */
enum vma_kind {
	VMA_UNKNOWN = 0, /* not asked, or the kernel could not tell (its mmap lock was taken) */
	VMA_NONE,	 /* no mapping at all */
	VMA_FILE,	 /* a file's code: its table is wanted */
	VMA_ANON_EXEC,	 /* anonymous executable memory: JIT code */
};

static long vma_kind_of(struct task_struct *task, struct vm_area_struct *vma, void *ctx)
{
	__u32 *kind = ctx;

	if (vma->vm_file)
		*kind = VMA_FILE;
	else if (vma->vm_flags & VM_EXEC)
		*kind = VMA_ANON_EXEC;
	return 0;
}

/*
 * Asks the kernel once per walk: bpf_find_vma defers its unlock of the mmap lock to an irq_work,
 * and a second call in the same interrupt finds that still queued (-EBUSY).
 */
static __always_inline __u32 vma_kind(struct walk_state *st, __u64 pc)
{
	__u32 kind = VMA_NONE;
	long err;

	/* A replay runs in the collector's task, long after the sample: the kernel cannot tell. */
	if (st->vma_asked || st->replay)
		return VMA_UNKNOWN;
	st->vma_asked = 1;
	err = bpf_find_vma(bpf_get_current_task_btf(), pc, vma_kind_of, &kind, 0);
	if (err == -ENOENT)
		return VMA_NONE;
	return err ? VMA_UNKNOWN : kind;
}

/*
 * Stops the walk, noting why: counted when the walk is done with (count_end), unless the sample
 * is deferred instead.
 */
static __always_inline long walk_stop(struct walk_state *st, __u32 counter)
{
	st->counted = 1;
	st->stop_reason = counter;
	return 1;
}

/* The walk would end pending: a table step was missing for want of a table not in yet. */
static __always_inline bool walk_pending(struct walk_state *st)
{
	return st->guessed || (st->counted && st->stop_reason == PROFILE_UNWIND_TABLE_PENDING);
}

/* Counts why a walk ended (a guessed one as pending), unless pending ends are counted elsewhere. */
static __always_inline void count_end(struct walk_state *st, bool count_pending)
{
	if (st->counted) {
		if (count_pending || st->stop_reason != PROFILE_UNWIND_TABLE_PENDING)
			count(st->buf, st->stop_reason);
	} else if (st->guessed && count_pending) {
		count(st->buf, PROFILE_UNWIND_TABLE_PENDING);
	}
}

/* One frame by frame pointers: [bp] is the caller's bp, [bp + 8] the return address. */
static __always_inline long fp_step(struct walk_state *st)
{
	__u64 frame[2];

	/*
	 * Walked by frame pointers only for want of a table: whether this code keeps them, and so
	 * whether the chain is whole (even one that ends at a zero bp), cannot be told. The walk
	 * counts as pending when it ends.
	 */
	if (st->pending)
		st->guessed = 1;
	/* A zero bp or return address is the outermost frame of a frame-pointer chain. */
	if (!st->bp)
		return 1;
	/* Callers live above: a frame at or below the stack pointer is a broken chain, or a loop. */
	if (st->bp + 16 <= st->sp)
		return walk_stop(st, st->pending ? PROFILE_UNWIND_TABLE_PENDING :
						   PROFILE_UNWIND_FRAME_POINTER_LOST);
	if (stack_read(st, frame, sizeof(frame), st->bp))
		return walk_stop(st, PROFILE_UNWIND_READ_FAULT);
	if (!frame[1])
		return 1;
	st->sp = st->bp + 16;
	st->bp = frame[0];
	if (!real_return(st, &frame[1]))
		return walk_stop(st, PROFILE_UNWIND_URETPROBE_TRAMPOLINE);
	st->pc = frame[1];
	st->exact_pc = 0;
	st->reliable = 0;
	st->r11_known = REG_UNKNOWN;
	st->rax_known = REG_UNKNOWN;
	st->rbx_known = 0; /* a function without a table may have saved it anywhere */
	return 0;
}

/*
 * A frame in the signal trampoline (__restore_rt): the stack pointer is at the kernel's
 * struct ucontext, whose uc_mcontext (x86-64 struct sigcontext, at +40) holds the interrupted
 * registers: bp at +80, sp at +120, ip at +128.
 */
static __always_inline long signal_step(struct walk_state *st)
{
	__u64 regs[7]; /* bp, bx, dx, ax, cx, sp, ip */

	if (stack_read(st, regs, sizeof(regs), st->sp + 40 + 80))
		return walk_stop(st, PROFILE_UNWIND_READ_FAULT);
	if (!regs[6])
		return 1;
	st->bp = regs[0];
	st->sp = regs[5];
	st->pc = regs[6];
	st->exact_pc = 1; /* the interrupted instruction itself */
	st->reliable = 1;
	st->r11_known = REG_UNKNOWN; /* it is in the signal frame, but no rule here needs it */
	st->rax_known = REG_UNKNOWN;
	st->rbx = regs[1];
	st->rbx_known = 1;
	return 0;
}

/*
 * The caller's value of a callee-saved register (rbp, rbx) its rule saves at cfa + off, where the
 * frame's own is `cur`: 0 when read from the stack, 1 when the slot was popped, negative when it
 * cannot be read. A slot below the stack pointer, of a frame above it, was popped: an epilogue's
 * CFI keeps naming it until the return, but the register holds the saved value again. (The memory
 * does too, in the task, but a replay's copy of the stack starts at the stack pointer.) A frame
 * below it is on another stack (CfaKind.switchedRbp).
 */
static __always_inline long read_saved(struct walk_state *st, __u64 cfa, __s16 off, __u64 cur,
				       __u64 *out)
{
	if (cfa > st->sp && cfa + (__s64)off < st->sp) {
		*out = cur;
		return 1;
	}
	return stack_read(st, out, sizeof(*out), cfa + (__s64)off);
}

/* Walks on with frame pointers in 'auto' mode; stops and counts in 'dwarf' mode. */
static __always_inline long no_rule(struct walk_state *st, __u32 counter)
{
	if (unwind_mode != UNWIND_MODE_AUTO)
		return walk_stop(st, counter);
	/*
	 * A function whose rule the walker cannot evaluate has a frame: a zero bp there ends no
	 * chain, it is a register put to other use (as in ld.so's lazy-binding resolver where rbx is
	 * not known, under a program without frame pointers), so the stack is cut, counted as frame
	 * pointers lost.
	 */
	if (counter == PROFILE_UNWIND_RULE_UNSUPPORTED && !st->bp)
		return walk_stop(st, PROFILE_UNWIND_FRAME_POINTER_LOST);
	return fp_step(st);
}

/*
 * Bytes of padding a function may fall through into the next one's entry: glibc aligns its string
 * functions' entries to 64 bytes.
 */
#define UNWIND_FALL_THROUGH_BYTES 64

/*
 * Whether rel, in the gap row find_rule() just found, lies within UNWIND_FALL_THROUGH_BYTES of the
 * next row, the start of the next function's unwind info: padding before that entry.
 */
static __always_inline bool before_entry(struct walk_state *st, struct unwind_file *file, __u64 rel)
{
	__u32 key = file->row_start + st->lo;
	struct unwind_row *next;

	if (st->lo >= file->row_count)
		return false;
	next = bpf_map_lookup_elem(&unwind_rows, &key);
	return next && next->pc - (__u32)rel < UNWIND_FALL_THROUGH_BYTES;
}

/*
 * Whether ra, read by a rule from a register the leaf left (REG_CALLEE), follows a call, as a
 * return address does: a direct call to at most 64 KiB below the frame's pc (the start of the
 * function the pc is in), or an indirect one (ff /2, through a register or memory). A callee
 * that changed the register leaves the rule reading some other word, which this tells. False in a
 * replay: the code is the sampled task's, whose memory a replay cannot read.
 */
static __always_inline bool called_from(struct walk_state *st, __u64 ra)
{
	__u8 code[6]; /* the six bytes before ra */
	__s32 rel;
	__u64 target;

	if (st->replay || bpf_probe_read_user(code, sizeof(code), (void *)(ra - sizeof(code))))
		return false;
	if (code[1] == 0xe8) { /* call rel32 */
		__builtin_memcpy(&rel, &code[2], sizeof(rel));
		target = ra + (__s64)rel;
		return st->pc >= target && st->pc - target < 65536;
	}
	/* call *%reg (ff d0+r, after a REX prefix for r8 to r15) */
	if (code[4] == 0xff && (code[5] & 0xf8) == 0xd0)
		return true;
	/* call *disp8(%reg) (ff 50+r; %rsp's takes a SIB byte, not matched) */
	if (code[3] == 0xff && (code[4] & 0xf8) == 0x50 && (code[4] & 7) != 4)
		return true;
	/* call *disp32(%rip) (ff 15), or *disp32(%reg) (ff 90+r) */
	return code[0] == 0xff &&
	       (code[1] == 0x15 || ((code[1] & 0xf8) == 0x90 && (code[1] & 7) != 4));
}

/*
 * bpf_loop callback: records st->pc and finds its caller. Returns 1 when the walk ends. `slot`
 * points at the walk_scratch slot walked (WALK_SAMPLE or WALK_REPLAY).
 */
static long walk_step(__u32 i, void *slot)
{
	__u32 nr;
	struct walk_state *st = bpf_map_lookup_elem(&walk_scratch, slot);
	struct unwind_process *proc;
	struct unwind_mapping *m;
	struct unwind_file *file;
	struct unwind_rule *rule;
	__u64 pc, cfa, ra, bp, rbx, fid, rel;
	bool gap, callee_reg = false, rbx_known, switched = false;
	long saved;

	if (!st)
		return 1;
	rbx = st->rbx;
	rbx_known = st->rbx_known;
	nr = st->stack.nr;
	if (nr >= UNWIND_MAX_DEPTH)
		return walk_stop(st, PROFILE_UNWIND_TOO_DEEP);
	st->stack.ips[nr] = st->pc;
	st->stack.nr = nr + 1;
	/* Still in the trampoline: nothing led out of it (see uprobe_state). */
	if (in_trampoline(st))
		return walk_stop(st, PROFILE_UNWIND_URETPROBE_TRAMPOLINE);

	proc = st->no_tables ? NULL : bpf_map_lookup_elem(&unwind_procs, &st->tgid);
	if (!proc) {
		/* Not described yet ('auto' walks it by frame pointers meanwhile), or removed meanwhile. */
		if (st->pending && unwind_mode == UNWIND_MODE_AUTO)
			return fp_step(st);
		return 1;
	}
	/* A return address is past its call, which may be a function's last instruction. */
	pc = st->exact_pc ? st->pc : st->pc - 1;
	m = find_mapping(st, proc, pc);
	if (!m) {
		if (st->reliable) {
			/*
			 * A real address in no mapping: one made since the collector read the process's.
			 * JIT code (V8 grows its code space all the time) has no table to wait for: it is
			 * walked by frame pointers, as a 'jit' mapping is, nothing is pending, and the
			 * process need not be read again for it. Where the kernel cannot tell (another
			 * thread holds the mapping lock), it is taken for a new file: pending, read again.
			 */
			if (!(proc->flags & UNWIND_PROCESS_TRUNCATED) &&
			    vma_kind(st, pc) == VMA_ANON_EXEC)
				return fp_step(st);
			mark_unmapped(st->buf, st->tgid);
			if (!(proc->flags & UNWIND_PROCESS_TRUNCATED))
				st->pending = 1;
		}
		return no_rule(st, proc->flags & UNWIND_PROCESS_TRUNCATED ?
					   PROFILE_UNWIND_MAPPINGS_FULL :
					   PROFILE_UNWIND_NO_MAPPING);
	}
	if (m->kind == UNWIND_KIND_PENDING) {
		/* A big table the collector loads only once a sample lands in its file: this one. */
		if (m->file_id)
			mark_unmapped(st->buf, UNWIND_WANTED_FILE | m->file_id);
		st->pending = 1;
		return no_rule(st, PROFILE_UNWIND_TABLE_PENDING);
	}
	if (m->kind != UNWIND_KIND_TABLE)
		return fp_step(st);
	fid = m->file_id;
	file = bpf_map_lookup_elem(&unwind_files, &fid);
	if (!file)
		return no_rule(st, PROFILE_UNWIND_NO_TABLE);
	rel = pc - m->bias - file->base;
	rule = find_rule(st, file, rel, &gap);
	if (gap)
		return no_rule(st, PROFILE_UNWIND_NO_TABLE);
	if (!rule)
		return walk_stop(st, PROFILE_UNWIND_LOOKUP_FAILED);
	if (rule->flags & UNWIND_RULE_SIGNAL_FRAME)
		return signal_step(st);

	switch (rule->cfa_kind) {
	case UNWIND_CFA_RSP:
		cfa = st->sp + (__s64)rule->cfa_offset;
		break;
	case UNWIND_CFA_RBP:
		cfa = st->bp + (__s64)rule->cfa_offset;
		break;
	case UNWIND_CFA_PLT:
		/* The lazy-binding PLT entry pushes 8 more bytes from its second instruction on. */
		cfa = st->sp + (__s64)rule->cfa_offset +
		      ((st->pc & 15) >= (__u64)(rule->flags >> 4) ? 8 : 0);
		break;
	case UNWIND_CFA_R11:
		if (st->r11_known == REG_UNKNOWN)
			return no_rule(st, PROFILE_UNWIND_RULE_UNSUPPORTED);
		cfa = st->r11 + (__s64)rule->cfa_offset;
		callee_reg = st->r11_known == REG_CALLEE;
		break;
	case UNWIND_CFA_RAX:
		if (st->rax_known == REG_UNKNOWN)
			return no_rule(st, PROFILE_UNWIND_RULE_UNSUPPORTED);
		cfa = st->rax + (__s64)rule->cfa_offset;
		callee_reg = st->rax_known == REG_CALLEE;
		break;
	case UNWIND_CFA_RSP_DEREF:
		if (stack_read(st, &cfa, sizeof(cfa), st->sp + (__s64)rule->cfa_offset))
			return walk_stop(st, PROFILE_UNWIND_READ_FAULT);
		cfa += 8;
		break;
	case UNWIND_CFA_RBX:
		if (!st->rbx_known)
			return no_rule(st, PROFILE_UNWIND_RULE_UNSUPPORTED);
		cfa = st->rbx + (__s64)rule->cfa_offset;
		break;
	case UNWIND_CFA_SWITCHED_RBP:
		/*
		 * Newer Go's mcall and morestack (esbuild's) clear rbp as they switch: the goroutine
		 * left behind is parked or moving, no longer this thread's caller, and Go's own
		 * tracebacks end here.
		 */
		if (!st->bp)
			return 1;
		cfa = st->bp + (__s64)rule->cfa_offset;
		switched = true;
		break;
	case UNWIND_CFA_GAP:
		/*
		 * glibc's clone3 and clone end their unwind info at the syscall on purpose: the new
		 * thread starts after it, and its unwinding must stop. The parent's pc after it, where a
		 * sample finds it while the kernel makes a thread (or as the syscall returns, where a
		 * timer's sample waits), is in that gap, and the function is frameless there, as at the
		 * syscall: an exact pc two bytes (a syscall's length) into a gap takes that rule. (The
		 * new thread is there too until its first instruction: its walk reads the top of its
		 * new stack as the return address, zero on a fresh stack, where it ends.)
		 *
		 * An exact pc in the padding before a function's entry is falling through into it, as
		 * glibc's __memmove_chk falls into memmove after its bounds check (padding after a
		 * return or a jump is never run): the frame is the entry's, frameless too.
		 */
		if (!st->exact_pc || ((__u32)rel - st->hi != 2 && !before_entry(st, file, rel)))
			return no_rule(st, PROFILE_UNWIND_NO_TABLE);
		cfa = st->sp + 8;
		if (stack_read(st, &ra, sizeof(ra), st->sp))
			return walk_stop(st, PROFILE_UNWIND_READ_FAULT);
		if (!ra)
			return 1; /* a new thread's fresh stack */
		bp = st->bp;
		goto caller;
	default:
		return no_rule(st, PROFILE_UNWIND_RULE_UNSUPPORTED);
	}
	if (rule->ra_kind == UNWIND_RA_UNDEFINED)
		return 1; /* the outermost frame: _start, or a thread's start */
	if (rule->ra_kind != UNWIND_RA_OFFSET)
		return no_rule(st, PROFILE_UNWIND_RULE_UNSUPPORTED);
	if (stack_read(st, &ra, sizeof(ra), cfa + (__s64)rule->ra_offset))
		return walk_stop(st, PROFILE_UNWIND_READ_FAULT);
	switch (rule->rbp_kind) {
	case UNWIND_SAVED_UNCHANGED:
		bp = st->bp;
		break;
	case UNWIND_SAVED_OFFSET:
		if (read_saved(st, cfa, rule->rbp_offset, st->bp, &bp) < 0)
			return walk_stop(st, PROFILE_UNWIND_READ_FAULT);
		break;
	case UNWIND_SAVED_UNDEFINED:
		bp = 0;
		break;
	default:
		return no_rule(st, PROFILE_UNWIND_RULE_UNSUPPORTED);
	}
	/* Only a CFA in rbx needs it: where it cannot be had, it is unknown, and the walk goes on. */
	if (rule->rbx_kind == UNWIND_SAVED_OFFSET) {
		saved = read_saved(st, cfa, rule->rbx_offset, st->rbx, &rbx);
		if (saved == 0)
			rbx_known = true;
		else if (saved < 0)
			rbx_known = false;
	} else if (rule->rbx_kind != UNWIND_SAVED_UNCHANGED) {
		rbx_known = false;
	}
caller:
	if (!real_return(st, &ra))
		return walk_stop(st, PROFILE_UNWIND_URETPROBE_TRAMPOLINE);
	if (!ra)
		return walk_stop(st, PROFILE_UNWIND_ZERO_RETURN);
	/*
	 * A rule that does not move up the stack would walk the same frame until too deep. A stack
	 * switch may go anywhere: a chain of them that loops ends too deep, counted.
	 */
	if (cfa <= st->sp && !switched)
		return walk_stop(st, PROFILE_UNWIND_NO_PROGRESS);
	if (callee_reg && !called_from(st, ra))
		return no_rule(st, PROFILE_UNWIND_RULE_UNSUPPORTED);
	st->pc = ra;
	st->sp = cfa;
	st->bp = bp;
	st->rbx = rbx;
	st->rbx_known = rbx_known;
	st->exact_pc = 0;
	st->reliable = 1;
	st->pending = 0;
	/* No rule restores them: the caller sees what the leaf left (see REG_CALLEE). */
	st->r11_known = st->r11_known == REG_OWN ? REG_CALLEE : REG_UNKNOWN;
	st->rax_known = st->rax_known == REG_OWN ? REG_CALLEE : REG_UNKNOWN;
	return 0;
}

/* A 64-bit hash of a walked stack's ips: its id in the user stacks map comes from it. */
static __always_inline __u64 hash_stack(struct unwind_stack *s)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (int i = 0; i < UNWIND_MAX_DEPTH; i++) {
		if (i >= s->nr)
			break;
		h = (h ^ s->ips[i]) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h ^ s->nr;
}

/* Stores st's stack under an id from its hash, probing a few slots past a different stack's. */
static __always_inline __s32 store_stack(struct walk_state *st, void *hashed)
{
	struct unwind_stack *old;
	__u64 h = hash_stack(&st->stack);
	__u32 id;

	st->stack.hash = h;
	for (__u32 p = 0; p < UNWIND_STACK_PROBES; p++) {
		id = UNWIND_STACK_ID_BIT | ((__u32)(h + p) & (UNWIND_STACK_ID_BIT - 1));
		old = bpf_map_lookup_elem(hashed, &id);
		if (!old) {
			if (bpf_map_update_elem(hashed, &id, &st->stack, BPF_NOEXIST) == 0)
				return id;
			/* Another CPU stored a stack there first: it may be this one. */
			old = bpf_map_lookup_elem(hashed, &id);
			if (!old)
				break; /* the map is full */
		}
		if (old->hash == h && old->nr == st->stack.nr)
			return id;
	}
	count(st->buf, PROFILE_UNWIND_STACKS_FULL);
	return -ENOSPC;
}

/*
 * The kernel's own walk (frame pointers for user stacks, ORC or frame pointers for the kernel's),
 * stored by its hash like a walked stack. Returns its id, or -EFAULT when there is no such stack.
 */
static __always_inline __s32 frame_pointer_stack(struct bpf_perf_event_data *ctx,
						 struct walk_state *st, void *hashed, __u64 flags)
{
	long n = bpf_get_stack(ctx, st->stack.ips, sizeof(st->stack.ips), flags);

	if (n < 0)
		return n;
	if (n == 0)
		return -EFAULT;
	st->stack.nr = n / sizeof(__u64);
	return store_stack(st, hashed);
}

/* The kernel stack of a sample, in the modes that store stacks by hash. */
static __always_inline __s32 kernel_stack(struct bpf_perf_event_data *ctx, __u32 buf, void *hashed)
{
	__u32 zero = 0;
	struct walk_state *st = bpf_map_lookup_elem(&walk_scratch, &zero);

	if (!st)
		return -ENOSPC;
	st->buf = buf;
	return frame_pointer_stack(ctx, st, hashed, 0);
}

/* Walks the stack of the walk_scratch slot *slot (on the caller's stack) from its registers. */
static __always_inline void walk(__u32 *slot)
{
	/* One more turn than frames, so that a stack deeper than that counts as too deep. */
	bpf_loop(UNWIND_MAX_DEPTH + 1, walk_step, slot, 0);
}

/*
 * The stack of a sample that is not deferred (deferral is off, or the ring was full): walked
 * without the missing tables ('auto' by frame pointers), cut where they are missing. Its pending
 * end is counted as unwindTablePending, or not at all where it counts as unwindDeferRingFull.
 */
static __always_inline __s32 walk_undeferred(struct walk_state *st, void *hashed,
					     bool count_pending)
{
	__u32 slot = WALK_SAMPLE;

	if (!st->stack.nr) {
		/*
		 * Not walked: its process is not described. 'auto' walks it by frame pointers with the
		 * walker's own check of the chain, so that a chain that breaks is counted (the kernel's
		 * walk would end it silently).
		 */
		st->pending = 1;
		if (unwind_mode == UNWIND_MODE_AUTO) {
			walk(&slot);
		} else {
			st->stack.ips[0] = st->pc;
			st->stack.nr = 1;
			walk_stop(st, PROFILE_UNWIND_TABLE_PENDING);
		}
	}
	count_end(st, count_pending);
	return store_stack(st, hashed);
}

/*
 * A pc in the trampoline after the kernel has taken the return instance. On x86-64 (since 6.11)
 * the trampoline pushes rax, rcx and r11 and enters the kernel by the uretprobe syscall, which
 * takes the instance and writes the real return address where rax was pushed; back in user mode
 * the trampoline pops r11 and rcx and returns to it. The instruction at the pc says how far above
 * the stack pointer that address is; the caller's stack pointer is past it. False for any other
 * pc, or where a read fails (perf's walk is cut there).
 */
static __always_inline bool trampoline_epilogue(struct walk_state *st)
{
	__u8 op[2];
	__u64 ra, off;

	if (bpf_probe_read_user(op, sizeof(op), (void *)st->pc))
		return false;
	if (op[0] == 0x41 && op[1] == 0x5b) /* pop %r11 */
		off = 16;
	else if (op[0] == 0x59) /* pop %rcx */
		off = 8;
	else if (op[0] == 0xc3) /* ret */
		off = 0;
	else
		return false;
	/*
	 * In a sample taken in the kernel before the syscall has written the address, the slot still
	 * holds the pushed rax, the probed function's return value; the tls tool's return program
	 * noted the address (probed-return.h). Otherwise, a return value is a byte count, say, below
	 * any mapping (the kernel maps nothing under mmap_min_addr, 64 KiB by default). An outer
	 * probed function's return address is the trampoline too: its instance is next.
	 */
	ra = probed_return_find(0, st->sp + off);
	if (!ra && bpf_probe_read_user(&ra, sizeof(ra), (void *)(st->sp + off)))
		return false;
	if (ra < 0x10000 || !real_return(st, &ra))
		return false;
	st->pc = ra;
	st->sp += off + 8;
	return true;
}

/*
 * A sample at the entry of a function the tls tool probes, as the kernel swaps in the trampoline
 * for its return address (at the stack pointer): until the kernel notes the real one in a return
 * instance, only the tls tool's entry program has it (probed-return.h). The ip is at the probe,
 * where the kernel put it for the handlers. False where the call is not one the tls tool noted,
 * or the kernel has noted it already (its instance is the newest, with this stack pointer), or it
 * was chained (its return address was the trampoline already: an outer instance holds the real
 * one).
 */
static __always_inline bool swap_window(struct walk_state *st)
{
	struct return_instance *ri = (struct return_instance *)st->return_instance;
	__u64 ret = probed_return_find(st->pc, st->sp);

	if (!ret || ret == st->uretprobe_trampoline || (ri && BPF_CORE_READ(ri, stack) == st->sp))
		return false;
	st->entry_return = ret;
	return true;
}

/*
 * What uprobes changed in the task's user state. Its pending uretprobes (see real_return). And a
 * sample taken as the kernel enters a uprobe's trap finds the user ip one past the int3 that
 * replaced the probed instruction, which has not run: at a function's entry the rule there is
 * the one after its first push, and the caller would be read from the wrong slot. The probed
 * instruction's address is walked instead (perf, for the same case, reads the return address at
 * the stack pointer). Nothing in the task's uprobe state says it is in that part of the trap
 * (the kernel moves the ip back to the probe for the handlers, and once it has emulated the
 * instruction the ip is past it again), so the int3 before the ip does, in a task that has hit
 * uprobes and is in the kernel; except where the probed push rbp has run (rbp is at the stack
 * pointer): then the ip is where it says. The one state between, a probed push rbp emulated but
 * the ip not moved past it yet, is told the same way: the ip at the int3, rbp at the stack pointer.
 */
static __always_inline void uprobe_state(struct walk_state *st, struct task_struct *task,
					 bool in_kernel)
{
	struct uprobe_task *ut = BPF_CORE_READ(task, utask);
	__u64 top, xol;
	__u8 op;

	st->return_instance = 0;
	st->uretprobe_trampoline = 0;
	st->entry_return = 0;
	if (!ut)
		return;
	/* Read with no return instance too: one the kernel has not noted yet is told by it. */
	st->return_instance = (__u64)BPF_CORE_READ(ut, return_instances);
	st->uretprobe_trampoline = BPF_CORE_READ(task, mm, uprobes_state.xol_area, vaddr);
	if (in_trampoline(st)) {
		/*
		 * The probed function has returned into the trampoline. Until the kernel takes its
		 * return instance, that holds the caller's state: the return address, and the stack
		 * slot it was swapped in, whatever the trampoline has pushed since (at most 24 bytes:
		 * an outer probed function's slot is further up). The walk starts there, as perf's puts
		 * the real return address in place of the trampoline's ip. Once taken, the trampoline's
		 * last instructions still lead to it (trampoline_epilogue); elsewhere the walk ends in
		 * the trampoline (see walk_step).
		 */
		struct return_instance *ri = (struct return_instance *)st->return_instance;
		__u64 slot = ri ? BPF_CORE_READ(ri, stack) : 0;

		if (ri && slot + 8 >= st->sp && slot + 8 - st->sp <= 24) {
			st->pc = BPF_CORE_READ(ri, orig_ret_vaddr);
			st->sp = slot + 8;
			st->return_instance = (__u64)BPF_CORE_READ(ri, next);
		} else if (!trampoline_epilogue(st)) {
			return;
		}
		/* The trampoline's r11 and rax are the kernel's and the return value, not the caller's. */
		st->r11_known = REG_UNKNOWN;
		st->rax_known = REG_UNKNOWN;
		return;
	}
	/*
	 * A probed instruction the kernel does not emulate (the sub rsp that Debian's libssl begins
	 * SSL_read with, an endbr64) runs out of line, single-stepped in a slot of that page: the pc
	 * there is the slot's. The walk maps it back to the probed instruction (perf's walks on from
	 * the slot, past the caller).
	 */
	xol = BPF_CORE_READ(ut, xol_vaddr);
	if (xol && st->pc - xol < UPROBE_XOL_SLOT_BYTES) {
		st->pc = BPF_CORE_READ(ut, vaddr) + (st->pc - xol);
		return;
	}
	if (!in_kernel || bpf_probe_read_user(&top, sizeof(top), (void *)st->sp))
		return;
	if (top == st->uretprobe_trampoline && swap_window(st))
		return;
	if (top != st->bp && !bpf_probe_read_user(&op, 1, (void *)(st->pc - 1)) && op == 0xcc)
		st->pc -= 1;
	else if (top == st->bp && !bpf_probe_read_user(&op, 1, (void *)st->pc) && op == 0xcc)
		st->pc += 1;
}

/*
 * The state a walk starts in, once its registers (pc, sp, bp, r11, rax, rbx) and uprobe state are
 * set: one place for a sample and a replay, so the two walks of one sample cannot start apart.
 * The start is kept (pc0...) for a sample deferred later.
 */
static __always_inline void walk_reset(struct walk_state *st, __u32 tgid, __u32 buf, bool replay)
{
	st->pc0 = st->pc;
	st->sp0 = st->sp;
	st->bp0 = st->bp;
	st->rbx0 = st->rbx;
	st->rbx_known0 = st->rbx_known;
	st->r11_known0 = st->r11_known;
	st->rax_known0 = st->rax_known;
	st->return_instance0 = st->return_instance;
	st->tgid = tgid;
	st->buf = buf;
	st->exact_pc = 1;
	st->reliable = 1;
	st->pending = 0;
	st->guessed = 0;
	st->counted = 0;
	st->vma_asked = 0;
	st->replay = replay;
	st->no_tables = 0;
	st->stack.nr = 0;
}

/*
 * The user stack of the current task walked with the unwind tables, stored by its hash; returns
 * its id, or a negative errno as bpf_get_stackid does (-EFAULT: a kernel thread, no user stack),
 * or WALK_DEFER for a process not described yet (and, with defer_pending, for a walk that would
 * end pending): record() defers it, or walks it without the tables (walk_undeferred).
 */
static __always_inline __s32 walk_user(struct bpf_perf_event_data *ctx, __u32 buf, void *hashed)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 zero = 0, slot = WALK_SAMPLE;
	struct walk_state *st;
	struct pt_regs *regs;
	bool user_mode;

	if (!task->mm)
		return -EFAULT;
	st = bpf_map_lookup_elem(&walk_scratch, &zero);
	if (!st)
		return -ENOSPC;
	/*
	 * A sample in the kernel walks from the user registers saved when the task entered it. An
	 * interrupt's or exception's entry saved them all as they were. A system call's did not keep
	 * rax (the call's number, then its result) nor r11 (rflags), but no CFI at a system call's
	 * return address can name either, so they are taken as known in both cases.
	 */
	/* The context takes whole-word loads only: a plain cs & 3 would be narrowed to 2 bytes. */
	user_mode = (*(volatile __u64 *)&ctx->regs.cs & 3) == 3;
	if (user_mode) {
		st->pc = ctx->regs.ip;
		st->sp = ctx->regs.sp;
		st->bp = ctx->regs.bp;
		st->r11 = ctx->regs.r11;
		st->rax = ctx->regs.ax;
		st->rbx = ctx->regs.bx;
	} else {
		regs = (struct pt_regs *)bpf_task_pt_regs(task);
		st->pc = BPF_CORE_READ(regs, ip);
		st->sp = BPF_CORE_READ(regs, sp);
		st->bp = BPF_CORE_READ(regs, bp);
		st->r11 = BPF_CORE_READ(regs, r11);
		st->rax = BPF_CORE_READ(regs, ax);
		st->rbx = BPF_CORE_READ(regs, bx);
	}
	st->r11_known = REG_OWN;
	st->rax_known = REG_OWN;
	st->rbx_known = 1;
	uprobe_state(st, task, !user_mode);
	walk_reset(st, bpf_get_current_pid_tgid() >> 32, buf, false);
	if (!bpf_map_lookup_elem(&unwind_procs, &st->tgid)) {
		/* A process the collector has not described yet: it rescans it, and walks this later. */
		mark_unmapped(buf, st->tgid);
		return WALK_DEFER;
	}
	walk(&slot);
	if (defer_pending && walk_pending(st))
		return WALK_DEFER;
	count_end(st, true);
	return store_stack(st, hashed);
}

/*
 * Copies a sample whose walk would end pending into the deferred ring: the registers the walk
 * starts from, its kernel stack, and its user stack from the stack pointer up, page by page
 * until PROFILE_DEFER_STACK_BYTES or the first page that cannot be read (the top of the stack).
 * False when the ring is full.
 */
static __always_inline bool defer_sample(struct bpf_perf_event_data *ctx, struct profile_key *key,
					 struct walk_state *st)
{
	__u32 cpu = bpf_get_smp_processor_id(), len = 0, first;
	struct profile_deferred *rec = bpf_map_lookup_elem(&defer_scratch, &cpu);
	__u64 sp = st->sp0;
	long n;

	if (!rec)
		return false;
	rec->pc = st->pc0;
	rec->sp = sp;
	rec->bp = st->bp0;
	rec->r11 = st->r11;
	rec->r11_known = st->r11_known0;
	rec->rax = st->rax;
	rec->rax_known = st->rax_known0;
	rec->rbx = st->rbx0;
	rec->rbx_known = st->rbx_known0;
	rec->pid = key->pid;
	rec->request_id = key->request_id;
	__builtin_memcpy(rec->comm, key->comm, sizeof(rec->comm));
	/* From the walk's first return instance: it may have taken some already. */
	rec->uretprobe_trampoline = st->uretprobe_trampoline;
	rec->uretprobe_nr = 0;
	{
		__u32 tgid = key->pid, *seq = bpf_map_lookup_elem(&exec_seqs, &tgid);

		rec->exec_seq = seq ? *seq : 0;
	}
	if (st->uretprobe_trampoline) {
		struct return_instance *ri = (struct return_instance *)st->return_instance0;

		for (int k = 0; k < PROFILE_DEFER_URETPROBES && ri; k++) {
			rec->uretprobe_returns[k] = BPF_CORE_READ(ri, orig_ret_vaddr);
			rec->uretprobe_nr = k + 1;
			ri = BPF_CORE_READ(ri, next);
		}
	}
	n = bpf_get_stack(ctx, rec->kern_ips, sizeof(rec->kern_ips), 0);
	rec->kern_nr = n > 0 ? n / sizeof(__u64) : 0;
	/* The rest of sp's page first, then whole pages: a read that faults fails as a whole. */
	first = 4096 - (sp & 4095);
	if (first <= 4096 && !bpf_probe_read_user(rec->stack, first, (void *)sp)) {
		len = first;
		for (int k = 0; k < PROFILE_DEFER_STACK_BYTES / 4096 - 1; k++) {
			/* Kept for the verifier, which cannot follow clang's proof that it holds. */
			asm volatile("" : "+r"(len));
			if (len > PROFILE_DEFER_STACK_BYTES - 4096)
				break;
			if (bpf_probe_read_user(rec->stack + len, 4096, (void *)(sp + len)))
				break;
			len += 4096;
		}
	}
	/* Kept for the verifier, as above. */
	asm volatile("" : "+r"(len));
	if (len > PROFILE_DEFER_STACK_BYTES)
		return false;
	rec->stack_len = len;
	return !bpf_ringbuf_output(&deferred, rec,
				   __builtin_offsetof(struct profile_deferred, stack) + len,
				   BPF_RB_NO_WAKEUP);
}

static __always_inline int record(struct bpf_perf_event_data *ctx, bool walk, __u32 buf,
				  struct profile_key *key, void *stacks, void *hashed, void *counts)
{
	static const __u64 one = 1;
	__u64 *val;

	if (!walk) {
		key->kern_stack_id = bpf_get_stackid(ctx, stacks, 0);
		key->user_stack_id = bpf_get_stackid(ctx, stacks, BPF_F_USER_STACK);
	} else {
		key->kern_stack_id = kernel_stack(ctx, buf, hashed);
		key->user_stack_id = walk_user(ctx, buf, hashed);
		if (key->user_stack_id == WALK_DEFER) {
			__u32 zero = 0;
			struct walk_state *st = bpf_map_lookup_elem(&walk_scratch, &zero);

			if (!st)
				return 0;
			/* Counted in its window when the collector has walked it again. */
			if (defer_pending && defer_sample(ctx, key, st)) {
				count(buf, PROFILE_UNWIND_DEFERRED);
				return 0;
			}
			if (defer_pending)
				count(buf, PROFILE_UNWIND_DEFER_RING_FULL);
			key->user_stack_id = walk_undeferred(st, hashed, !defer_pending);
		}
	}

	if (key->kern_stack_id == -EEXIST || key->user_stack_id == -EEXIST)
		count(buf, PROFILE_STACK_COLLISIONS);
	/* -EFAULT on the user stack is a kernel thread, which has none: not a loss. */
	/* -ENOSPC is a stack that found no room in the hashed stacks, counted as such. */
	if (key->user_stack_id < 0 && key->user_stack_id != -EFAULT &&
	    key->user_stack_id != -EEXIST && key->user_stack_id != -ENOSPC)
		count(buf, PROFILE_USER_STACK_MISSING);
	if (key->kern_stack_id < 0 && key->kern_stack_id != -EFAULT &&
	    key->kern_stack_id != -EEXIST && key->kern_stack_id != -ENOSPC)
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

static __always_inline int sample(struct bpf_perf_event_data *ctx, bool walk)
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
	/* The request the thread serves, set by the tls tool: a key field, so counts stay per request. */
	key.request_id = request_current((__u32)id);

	if (buf)
		return record(ctx, walk, 1, &key, &stacks1, &hashed_stacks1, &counts1);
	return record(ctx, walk, 0, &key, &stacks0, &hashed_stacks0, &counts0);
}

/*
 * The 'fp' mode: the kernel's frame-pointer walks, as before unwind tables. Two programs, one
 * loaded: this one uses no helper newer than the BTF kernels (5.8) the tool supports.
 */
SEC("perf_event")
int do_sample(struct bpf_perf_event_data *ctx)
{
	return sample(ctx, false);
}

/* The 'dwarf' and 'auto' modes: the table walker (bpf_loop, bpf_task_pt_regs: Linux 5.17). */
SEC("perf_event")
int do_sample_walk(struct bpf_perf_event_data *ctx)
{
	return sample(ctx, true);
}

/*
 * A deferred sample walked again (BPF_PROG_TEST_RUN, by the collector once the tables may be in),
 * by the same walker, its stack reads served from the copy in the replay slot. While its walk
 * would still end pending it answers PROFILE_REPLAY_PENDING and counts nothing, but on its last
 * try; otherwise it counts the walk's end as a sample's would be, in the buffer active now.
 */
SEC("syscall")
int replay_deferred(void *ctx)
{
	__u32 zero = 0, slot = WALK_REPLAY, *seq;
	struct profile_replay *rp = bpf_map_lookup_elem(&replay, &zero);
	struct walk_state *st = bpf_map_lookup_elem(&walk_scratch, &slot);
	bool execed;

	if (!rp || !st)
		return 1;
	st->pc = rp->rec.pc;
	st->sp = rp->rec.sp;
	st->bp = rp->rec.bp;
	st->r11 = rp->rec.r11;
	st->r11_known = rp->rec.r11_known != 0;
	st->rax = rp->rec.rax;
	st->rax_known = rp->rec.rax_known != 0;
	st->rbx = rp->rec.rbx;
	st->rbx_known = rp->rec.rbx_known != 0;
	/* The task's return instances are gone by now: the copy holds their real return addresses. */
	st->uretprobe_trampoline = rp->rec.uretprobe_trampoline;
	st->return_instance = 0;
	st->entry_return = 0;
	walk_reset(st, rp->rec.pid, active_buf ? 1 : 0, true);
	/* Exec'd since the sample: no table will ever come for it, so this try is its last. */
	seq = bpf_map_lookup_elem(&exec_seqs, &st->tgid);
	execed = seq && *seq != rp->rec.exec_seq;
	if (execed || !bpf_map_lookup_elem(&unwind_procs, &st->tgid)) {
		if (!execed && !rp->last_try) {
			rp->status = PROFILE_REPLAY_PENDING;
			return 0;
		}
		/* Never described (it exited first), or another program now: walked as at the sample. */
		st->pending = 1;
		st->no_tables = execed;
		if (unwind_mode == UNWIND_MODE_AUTO) {
			walk(&slot);
		} else {
			st->stack.ips[0] = st->pc;
			st->stack.nr = 1;
			walk_stop(st, PROFILE_UNWIND_TABLE_PENDING);
		}
	} else {
		walk(&slot);
		if (walk_pending(st) && !rp->last_try) {
			rp->status = PROFILE_REPLAY_PENDING;
			return 0;
		}
	}
	/* Gone, or never described: however its guessed walk ended (pending, a fault), no table could help. */
	if (execed)
		count(st->buf, PROFILE_UNWIND_PROCESS_EXECED);
	else if (rp->exited && (st->pending || walk_pending(st)))
		count(st->buf, PROFILE_UNWIND_PROCESS_EXITED);
	else
		count_end(st, true);
	rp->execed = execed;
	rp->nr = st->stack.nr < UNWIND_MAX_DEPTH ? st->stack.nr : UNWIND_MAX_DEPTH;
	bpf_probe_read_kernel(rp->ips, sizeof(rp->ips), st->stack.ips);
	rp->status = PROFILE_REPLAY_DONE;
	return 0;
}

/*
 * Every exec of a sampled process: a new generation (exec_seqs), so that its samples deferred
 * before it are known to be of an address space that is gone. Only with deferral on.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(profile_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 *old, seq;

	if (!pid_selected(tgid))
		return 0;
	/* A process execs one thread at a time (the kernel's cred_guard_mutex): no race here. */
	old = bpf_map_lookup_elem(&exec_seqs, &tgid);
	seq = old ? *old + 1 : 1;
	/* 0 means no exec seen. */
	if (!seq)
		seq = 1;
	bpf_map_update_elem(&exec_seqs, &tgid, &seq, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
