/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * unwind: the tables the profile program walks user stacks with (.eh_frame / .debug_frame rules
 * built by packages/unwind) and the executable mappings of each process. Shared by
 * profile.bpf.c, the addon (native/src/profiler.cc) and the TypeScript encoders
 * (native/src/unwind-records.ts); golden-byte tests pin the layouts.
 */
#ifndef FIRESIGHT_UNWIND_H
#define FIRESIGHT_UNWIND_H

#include "shared.h"

/* Executable mappings one process entry holds; past it the entry is marked truncated. */
#define UNWIND_MAX_MAPPINGS 256
/* Bounded binary searches: 2^9 > UNWIND_MAX_MAPPINGS, 2^32 rows is the map's own limit. */
#define UNWIND_MAPPING_SEARCH_STEPS 9
#define UNWIND_ROW_SEARCH_STEPS	    32

/*
 * In the 'dwarf' and 'auto' modes stacks live in hashed maps, keyed by an id taken from a hash of
 * the ips. The ids sit at and above this bit, so they never meet the stack-trace map's ids
 * (bucket indexes), which the 'fp' mode uses.
 */
#define UNWIND_STACK_ID_BIT 0x40000000u
/* Slots tried after the hash's own before a stack counts as a collision. */
#define UNWIND_STACK_PROBES 4

/* How the walker treats user stacks (const volatile rodata, set before load). */
enum unwind_mode {
	UNWIND_MODE_FP = 0,    /* bpf_get_stackid's frame-pointer walk only, as before tables */
	UNWIND_MODE_DWARF = 1, /* tables; frame pointers only for fp/jit mappings */
	UNWIND_MODE_AUTO = 2,  /* tables; frame pointers where there is none */
};

/* What a mapping's code is walked with. */
enum unwind_mapping_kind {
	UNWIND_KIND_TABLE = 0, /* the rows of file_id */
	UNWIND_KIND_FP = 1,    /* frame pointers (no table wanted or possible) */
	UNWIND_KIND_JIT = 2,   /* frame pointers: JIT code, as Node's with perf maps */
	/*
	 * A file whose table is still being built or loaded: frame pointers meanwhile ('auto'), the
	 * stack counted as PROFILE_UNWIND_TABLE_PENDING, not as a broken chain. A nonzero file_id is
	 * a big table loaded only once wanted: a sample in it reports UNWIND_WANTED_FILE | file_id.
	 */
	UNWIND_KIND_PENDING = 3,
};

/*
 * Set in an id of the unmapped sets: the rest is the file_id of a pending mapping a sample landed
 * in, not a tgid (pid_max is at most 2^22).
 */
#define UNWIND_WANTED_FILE 0x80000000u

/* CFA rule kinds, as packages/unwind's CfaKind. */
enum unwind_cfa_kind {
	UNWIND_CFA_GAP = 0,
	UNWIND_CFA_RSP = 1,
	UNWIND_CFA_RBP = 2,
	UNWIND_CFA_PLT = 3,
	UNWIND_CFA_UNSUPPORTED = 4,
	UNWIND_CFA_R11 = 5, /* r11 is known in the leaf, and in its caller as the leaf left it */
	UNWIND_CFA_RAX = 6, /* as r11 */
	/* CFA = *(rsp + cfa_offset) + 8: an entry rsp saved on the stack. */
	UNWIND_CFA_RSP_DEREF = 7,
	/* rbx is known in the leaf, and in callers from where their callees saved it */
	UNWIND_CFA_RBX = 8,
	/* CFA = rbp + offset in a function that switched stacks (Go's): the caller may lie below */
	UNWIND_CFA_SWITCHED_RBP = 9,
};

/* Where the caller's rbp or rbx is, as SavedKind. */
enum unwind_saved_kind {
	UNWIND_SAVED_UNCHANGED = 0,
	UNWIND_SAVED_OFFSET = 1,
	UNWIND_SAVED_UNDEFINED = 2,
	UNWIND_SAVED_UNSUPPORTED = 3,
};

/* Return address, as RaKind. */
enum unwind_ra_kind {
	UNWIND_RA_OFFSET = 0,
	UNWIND_RA_UNDEFINED = 1,
	UNWIND_RA_UNSUPPORTED = 2,
};

#define UNWIND_RULE_SIGNAL_FRAME 0x1

/* One rule: the 16-byte record of packages/unwind's table layout, unchanged. */
struct unwind_rule {
	__s32 cfa_offset;
	__s16 rbp_offset;
	__s16 ra_offset;
	__u8 cfa_kind;
	__u8 rbp_kind;
	__u8 ra_kind;
	__u8 flags; /* bit 0: signal frame; bits 4-7: PLT threshold */
	__s16 rbx_offset;
	__u8 rbx_kind;
	__u8 reserved;
};
FS_STATIC_ASSERT(sizeof(struct unwind_rule) == 16, "unwind_rule layout is shared with TypeScript");

/*
 * One row of the rows map: from file virtual address base + pc on, the rule at `rule` (an index
 * into the whole rules map, the file's rule range already added).
 */
struct unwind_row {
	__u32 pc;
	__u32 rule;
};
FS_STATIC_ASSERT(sizeof(struct unwind_row) == 8, "unwind_row layout is shared with TypeScript");

/* Where one file's rows are: value of the files map, keyed by the collector's file id. */
struct unwind_file {
	__u64 base; /* file virtual address of row 0 */
	__u32 row_start;
	__u32 row_count;
	__u32 rule_start;
	__u32 rule_count;
};
FS_STATIC_ASSERT(sizeof(struct unwind_file) == 24, "unwind_file layout is shared with TypeScript");

/* One executable mapping of a process. */
struct unwind_mapping {
	__u64 start;
	__u64 end;  /* exclusive */
	__u64 bias; /* runtime address - file virtual address */
	__u32 file_id;
	__u32 kind; /* enum unwind_mapping_kind */
};
FS_STATIC_ASSERT(sizeof(struct unwind_mapping) == 32,
		 "unwind_mapping layout is shared with TypeScript");

#define UNWIND_PROCESS_TRUNCATED 0x1

/* Value of the processes map, keyed by tgid: its executable mappings sorted by start. */
struct unwind_process {
	__u32 nr;
	__u32 flags; /* UNWIND_PROCESS_TRUNCATED: it had more than UNWIND_MAX_MAPPINGS */
	struct unwind_mapping mappings[UNWIND_MAX_MAPPINGS];
};
FS_STATIC_ASSERT(sizeof(struct unwind_process) == 8 + 32 * UNWIND_MAX_MAPPINGS,
		 "unwind_process layout is shared with TypeScript");

/* Frames one walked stack holds: PROFILE_MAX_STACK_DEPTH, as the stack-trace map's. */
#define UNWIND_MAX_DEPTH 127

/* Value of the user stacks maps: a walked stack, leaf first, and the hash its id came from. */
struct unwind_stack {
	__u64 hash;
	__u32 nr;
	__u32 __pad;
	__u64 ips[UNWIND_MAX_DEPTH];
};
FS_STATIC_ASSERT(sizeof(struct unwind_stack) == 16 + 8 * UNWIND_MAX_DEPTH,
		 "unwind_stack layout is read by the addon");

#endif /* FIRESIGHT_UNWIND_H */
