// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tls: captures the plaintext of OpenSSL's SSL_read, SSL_write, SSL_read_ex and SSL_write_ex with
 * entry and return uprobes, and ties each SSL object to the socket it talks through.
 *
 * The uprobes are attached by user space once per file (system libssl, or an executable such as
 * node that carries its own OpenSSL) for every process; the pid filter lives here.
 *
 * Finding the socket: OpenSSL has no fd in a stable place, so it is inferred from the syscalls
 * of the calling thread:
 *   - socket BIO (curl, openssl s_server, most C programs): the read/write syscall happens inside
 *     the SSL call, on the same thread;
 *   - memory BIO (Node): the event loop reads the socket BEFORE SSL_read, and writes it AFTER
 *     SSL_write, on the same thread. The last socket read of a thread and the first socket write
 *     after an SSL_write are remembered for that.
 * A connection is (tgid, fd, gen): gen is bumped each time a tracked fd is closed, so a reused fd
 * number is a new connection. Where no socket can be tied, events carry fd -1 and user space
 * reports the peer as unknown.
 *
 * Request context (request-context.h): a read whose first bytes are an HTTP method and a target
 * opens a request on the calling thread, and a write that starts a response answers the oldest
 * open request of its connection; the profile program stamps each sample of the thread with the
 * newest open request, marked ambiguous when several are open (event-loop servers interleave
 * them). See docs/request-attribution.md for the model and its limits.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "counters.bpf.h"
#include "net.bpf.h"
#include "pids.bpf.h"
#include "probed-return.bpf.h"
#include "request-context.bpf.h"
#include "tls.h"

#define S_IFMT	 00170000
#define S_IFSOCK 0140000

/* Syscall numbers of the socket I/O that can carry TLS records. */
#if defined(__TARGET_ARCH_x86)
#define NR_read	    0
#define NR_write    1
#define NR_close    3
#define NR_readv    19
#define NR_writev   20
#define NR_sendto   44
#define NR_recvfrom 45
#define NR_sendmsg  46
#define NR_recvmsg  47
#elif defined(__TARGET_ARCH_arm64)
#define NR_read	    63
#define NR_write    64
#define NR_close    57
#define NR_readv    65
#define NR_writev   66
#define NR_sendto   206
#define NR_recvfrom 207
#define NR_sendmsg  211
#define NR_recvmsg  212
#else
#error "tls.bpf.c: syscall numbers for this architecture are missing"
#endif

/* Set by the collector before load: never trace the collector itself. */
const volatile __u32 self_tgid = 0;
/* Set by the collector before load: keep the request context (off to measure what it costs). */
const volatile bool request_context = true;

/*
 * Processes that do TLS: filled by user space at discovery and by the uprobes on first use. The
 * socket hooks look here first, so it costs one lookup for every other process. The value is
 * unused: the processes' counts are in tls_procs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 8192);
} tls_tgids SEC(".maps");

/*
 * The same processes in slots indexed by tgid, in front of tls_tgids: every SSL entry and socket
 * hook of a TLS process looks here, and an array slot costs no hash (a hash lookup was most of
 * what an SSL entry probe cost). A process whose slot another TLS process holds is found through
 * tls_tgids instead, and takes the slot back.
 *
 * `closes` counts the closes of sockets tied to SSL objects by the processes of the slot: an SSL
 * object's socket checked at one count is still current while the count stays, so most SSL calls
 * need no look at the socket's generation (see leave()). Processes sharing a slot share the count,
 * which only makes such a check more frequent; it never goes back, so no close is missed.
 */
struct tls_process {
	__u32 tgid; /* the process holding the slot; 0 when none */
	__u32 closes;
};

#define PROCESS_SLOTS 8192
/* Set by the collector before load with the map's size (a power of two): fewer slots in tests. */
const volatile __u32 process_mask = PROCESS_SLOTS - 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32); /* tgid & process_mask */
	__type(value, struct tls_process);
	__uint(max_entries, PROCESS_SLOTS);
} tls_procs SEC(".maps");

/*
 * The slot of process tgid when it does TLS, else NULL; with `mark`, it is marked as doing TLS
 * first (an SSL call).
 */
static __always_inline struct tls_process *tls_process(__u32 tgid, bool mark)
{
	__u32 slot = tgid & process_mask, zero = 0;
	struct tls_process *p = bpf_map_lookup_elem(&tls_procs, &slot);

	if (!p)
		return NULL;
	if (p->tgid == tgid)
		return p;
	if (!bpf_map_lookup_elem(&tls_tgids, &tgid)) {
		if (!mark)
			return NULL;
		bpf_map_update_elem(&tls_tgids, &tgid, &zero, BPF_NOEXIST);
	}
	p->tgid = tgid;
	return p;
}

/* An SSL call in flight on a thread, from entry to return. */
struct tls_call {
	__u64 id; /* pid_tgid of the thread in the call; 0 when the slot is free */
	__u64 ssl;
	__u64 buf;
	__u64 count_ptr; /* size_t * of the _ex calls */
	__u64 start_ns;
	__s32 fd; /* socket used inside the call, or -1 */
	__u32 func;
	__u32 closes; /* the process's count of tied sockets closed, at entry */
	__u32 __pad;
};

/*
 * The calls in flight, in slots indexed by thread id: an entry probe writes its thread's slot and
 * the return frees it, where a hash would insert and delete an element on every SSL call (most of
 * what the probes cost besides the copy). Two threads whose ids share a slot, inside SSL calls at
 * the same instant, lose the earlier call: counted as TLS_ACTIVE_FULL.
 */
#define ACTIVE_SLOTS 16384
/* Set by the collector before load with the map's size (a power of two): fewer slots in tests. */
const volatile __u32 active_mask = ACTIVE_SLOTS - 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32); /* tid & active_mask */
	__type(value, struct tls_call);
	__uint(max_entries, ACTIVE_SLOTS);
} active SEC(".maps");

static __always_inline struct tls_call *active_slot(__u64 id)
{
	__u32 slot = (__u32)id & active_mask;

	return bpf_map_lookup_elem(&active, &slot);
}

/* The slot of the calling thread's SSL call, or NULL when it is in none. */
static __always_inline struct tls_call *active_call(__u64 id)
{
	struct tls_call *c = active_slot(id);

	return c && c->id == id ? c : NULL;
}

/* Per thread: what the memory-BIO inference needs. */
struct thread_io {
	__u64 pending_write_ssl; /* SSL_write returned, its socket write not seen yet */
	__s32 last_read_fd;	 /* last socket read, or -1 */
	__u32 tid;		 /* the thread whose slot this is; 0 when free */
};

/*
 * In slots indexed by thread id, as the calls in flight are: every socket read and write of a TLS
 * process looks here, and an array slot costs no hash (an LRU hash was about a quarter of what the
 * syscall hooks cost). A thread takes its slot from another thread of the same index; what that
 * thread had noted and still needed is lost, counted as TLS_THREADS_FULL.
 */
#define THREAD_SLOTS 16384
/* Set by the collector before load with the map's size (a power of two): fewer slots in tests. */
const volatile __u32 threads_mask = THREAD_SLOTS - 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32); /* tid & threads_mask */
	__type(value, struct thread_io);
	__uint(max_entries, THREAD_SLOTS);
} threads SEC(".maps");

struct ssl_key {
	__u32 tgid;
	__u32 __pad;
	__u64 ssl;
};

struct ssl_conn {
	__s32 fd;
	__u32 gen;
	__u32 closes; /* the process's closes count when (fd, gen) was last known current */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct ssl_key);
	__type(value, struct ssl_conn);
	__uint(max_entries, 65536);
} ssl_conns SEC(".maps");

struct fd_key {
	__u32 tgid;
	__s32 fd;
};

/* Current generation of each (tgid, fd) that an SSL object was tied to. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct fd_key);
	__type(value, __u32);
	__uint(max_entries, 65536);
} fd_gens SEC(".maps");

/*
 * The socket each tied fd is, and the reverse, for the socket-layer hooks only: there the close of
 * a tied socket is seen by the TCP state hook, which names it by its struct sock, not by a
 * syscall tracepoint on close. Enabling any syscall tracepoint puts every syscall of every task
 * on the host through the kernel's slow syscall path: with close's alone, a process nobody traces
 * took 1.2 times as long per syscall (bench/RESULTS.md, "Every other process's syscalls"). A
 * socket whose close that hook does not see (one shared with another process, one not TCP) is
 * told closed when its fd is seen as another socket. Sized as fd_gens.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct fd_key);
	__type(value, __u64); /* struct sock * */
	__uint(max_entries, 65536);
} fd_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u64); /* struct sock * */
	__type(value, struct fd_key);
	__uint(max_entries, 65536);
} sock_fds SEC(".maps");

/* Where a data record is assembled before it is copied to the ring buffer at its real size. */
struct scratch {
	struct tls_data_event ev;
	__u8 data[TLS_MAX_CAPTURE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct scratch);
	__uint(max_entries, 1);
} scratch_buf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by the collector */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, TLS_COUNTER_MAX);
} counters SEC(".maps");

/*
 * Request ids are (sequence << 10 | cpu) within REQUEST_ID_MASK, from a sequence per CPU: unique
 * on up to 1024 CPUs without an atomic fetch-add (which needs a 5.12 kernel), and they wrap after
 * 2 million requests per CPU, long after the collector has labelled their samples.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} request_seqs SEC(".maps");

/*
 * Waking the collector for every record costs the traced thread a wake-up per SSL call. Records
 * are left for the collector's reader, which drains the buffer after every poll timeout (100 ms),
 * unless the buffer is filling up.
 */
/* Set by the collector before load: an eighth of the ring buffer's size (one query, not two). */
const volatile __u64 wakeup_bytes = (16 << 20) / 8;

static __always_inline __u64 wakeup_flags(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void count_n(__u32 counter, __u64 n)
{
	percpu_counter_add(&counters, counter, n);
}

static __always_inline void count(__u32 counter)
{
	count_n(counter, 1);
}

static __always_inline struct thread_io *thread_slot(__u32 tid)
{
	__u32 slot = tid & threads_mask;

	return bpf_map_lookup_elem(&threads, &slot);
}

/*
 * The calling thread's slot, taken from whichever thread held it. A write it was waiting for is
 * that thread's loss: its SSL object is not tied to a socket by it.
 */
static __always_inline void thread_take(struct thread_io *tio, __u32 tid)
{
	if (tio->tid == tid)
		return;
	if (tio->tid && tio->pending_write_ssl)
		count(TLS_THREADS_FULL);
	tio->tid = tid;
	tio->pending_write_ssl = 0;
	tio->last_read_fd = -1;
}

static __always_inline bool traced(__u32 tgid)
{
	if (tgid == self_tgid)
		return false;
	return pid_selected(tgid);
}

/* The struct socket behind fd in the current process, or NULL when fd is not a socket. */
static __always_inline struct socket *fd_socket(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = NULL;
	unsigned int max;
	umode_t mode;

	if (!fdt || fd < 0)
		return NULL;
	max = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned int)fd >= max)
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	return BPF_CORE_READ(f, private_data);
}

static __always_inline void read_addresses(struct tls_conn_event *ev, struct socket *sock)
{
	struct sock *sk = BPF_CORE_READ(sock, sk);
	__u16 family;

	if (!sk)
		return;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	/* Explicit sizes: the destinations are byte arrays, wider than the IPv4 fields. */
	if (family == AF_INET) {
		bpf_core_read(ev->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(ev->raddr, 4, &sk->__sk_common.skc_daddr);
	} else if (family == AF_INET6) {
		bpf_core_read(ev->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(ev->raddr, 16, &sk->__sk_common.skc_v6_daddr);
	} else {
		ev->family = family;
		return;
	}
	ev->family = family;
	ev->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	ev->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

/*
 * Ties ssl to (tgid, fd) at the fd's current generation; emits a conn event when that is news.
 * Returns the generation.
 */
static __always_inline __u32 associate(__u32 tgid, __u64 ssl, int fd, __u8 source, __u32 closes)
{
	struct fd_key fk = {.tgid = tgid, .fd = fd};
	struct ssl_key sk = {.tgid = tgid, .ssl = ssl};
	struct ssl_conn *cur, conn = {.fd = fd, .closes = closes};
	struct tls_conn_event *ev;
	struct socket *sock;
	__u32 zero = 0, *gen;

	gen = bpf_map_lookup_elem(&fd_gens, &fk);
	if (!gen) {
		bpf_map_update_elem(&fd_gens, &fk, &zero, BPF_NOEXIST);
		gen = bpf_map_lookup_elem(&fd_gens, &fk);
		if (!gen) {
			count(TLS_CONN_FULL);
			return 0;
		}
	}
	conn.gen = *gen;
	cur = bpf_map_lookup_elem(&ssl_conns, &sk);
	if (cur && cur->fd == conn.fd && cur->gen == conn.gen) {
		cur->closes = closes;
		return conn.gen;
	}
	if (bpf_map_update_elem(&ssl_conns, &sk, &conn, BPF_ANY))
		count(TLS_CONN_FULL);

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count(TLS_CONTROL_LOST);
		return conn.gen;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->ts_ns = bpf_ktime_get_ns();
	ev->type = TLS_EV_CONN;
	ev->tgid = tgid;
	ev->ssl = ssl;
	ev->fd = fd;
	ev->gen = conn.gen;
	ev->fd_source = source;
	sock = fd_socket(fd);
	if (sock)
		read_addresses(ev, sock);
	bpf_ringbuf_submit(ev, wakeup_flags());
	return conn.gen;
}

/* Four bytes as the little-endian word they load as (x86 and arm64 both are). */
#define WORD(a, b, c, d) ((__u32)(a) | (__u32)(b) << 8 | (__u32)(c) << 16 | (__u32)(d) << 24)

/*
 * Whether captured bytes start an HTTP/1.x request: a method token, a space and a target. Only
 * the first word is compared per call; a body chunk that happens to look like this is the rare
 * false start this costs. `b` holds at least 16 bytes.
 */
static __always_inline bool starts_request(const __u8 *b)
{
	__u32 m;

	switch (*(const __u32 *)b) {
	case WORD('G', 'E', 'T', ' '):
	case WORD('P', 'U', 'T', ' '):
		m = 3;
		break;
	case WORD('P', 'O', 'S', 'T'):
	case WORD('H', 'E', 'A', 'D'):
		m = 4;
		break;
	case WORD('P', 'A', 'T', 'C'):
	case WORD('T', 'R', 'A', 'C'):
		m = 5;
		break;
	case WORD('D', 'E', 'L', 'E'):
		m = 6;
		break;
	case WORD('O', 'P', 'T', 'I'):
	case WORD('C', 'O', 'N', 'N'):
		m = 7;
		break;
	default:
		return false;
	}
	return b[m & 7] == ' ' && b[(m + 1) & 15] > ' ';
}

/*
 * Whether captured bytes start a final HTTP/1.x response ("HTTP/1.x NNN"); an interim 1xx
 * (100 Continue) answers nothing yet. `b` holds at least 16 bytes.
 */
static __always_inline bool starts_response(const __u8 *b)
{
	return *(const __u32 *)b == WORD('H', 'T', 'T', 'P') && b[4] == '/' && b[5] == '1' &&
	       b[6] == '.' && b[8] == ' ' && b[9] >= '2' && b[9] <= '9';
}

/* Restamps what samples of the thread carry: the newest open request, ambiguous if not alone. */
static __always_inline void request_restamp(struct request_context *rc)
{
	__u32 open = rc->open;

	if (open == 0 || open > REQUEST_SLOTS) {
		rc->current = 0;
		return;
	}
	rc->current = rc->slots[(open - 1) & (REQUEST_SLOTS - 1)].id |
		      (open > 1 ? REQUEST_AMBIGUOUS : 0);
}

/*
 * Removes open requests, keeping the others in order: those of connection `ssl` (the oldest only
 * when `oldest_only`), or when ssl is 0 those on socket `fd`. Returns how many went.
 */
static __always_inline __u32 request_remove(struct request_context *rc, __u64 ssl, int fd,
					    bool oldest_only)
{
	__u32 open = rc->open, kept = 0, removed = 0;

#pragma unroll
	for (__u32 i = 0; i < REQUEST_SLOTS; i++) {
		struct request_slot slot = rc->slots[i];
		bool match = ssl ? slot.ssl == ssl : fd >= 0 && slot.fd == fd;

		if (i >= open)
			break;
		if (match && !(oldest_only && removed)) {
			removed++;
			continue;
		}
		if (kept != i)
			rc->slots[kept & (REQUEST_SLOTS - 1)] = slot;
		kept++;
	}
	rc->open = kept;
	return removed;
}

/*
 * The thread read the start of a request on connection ssl (socket fd, or -1): it opens a new
 * request, the newest of the thread's. A request that was still open on the same connection is
 * taken as answered (HTTP/1.x without pipelining answers one before the client sends the next).
 * Returns the request's id, also when it could not be recorded (counted).
 */
static __always_inline __u32 request_begin(__u32 tid, __u64 ssl, int fd)
{
	__u32 zero = 0, id, *seq = bpf_map_lookup_elem(&request_seqs, &zero);
	struct request_context *rc;
	struct request_slot *slot;

	if (!seq)
		return 0;
	*seq += 1; /* per CPU, and this program does not nest on a CPU */
	id = (*seq << 10 | (bpf_get_smp_processor_id() & 0x3ff)) & REQUEST_ID_MASK;
	if (id == 0)
		id = 1; /* wrapped on CPU 0: 0 means no request, and 1 is never made otherwise */
	rc = bpf_map_lookup_elem(&request_contexts, &tid);
	if (!rc) {
		struct request_context fresh = {};

		bpf_map_update_elem(&request_contexts, &tid, &fresh, BPF_NOEXIST);
		rc = bpf_map_lookup_elem(&request_contexts, &tid);
		if (!rc) {
			count(TLS_REQUEST_CONTEXT_FULL);
			return id;
		}
	}
	request_remove(rc, ssl, -1, false);
	if (rc->open >= REQUEST_SLOTS) {
		/* The oldest open request goes: its samples from now on are the newer ones'. */
		rc->open = REQUEST_SLOTS;
		request_remove(rc, rc->slots[0].ssl, -1, true);
		count(TLS_REQUEST_SLOTS_FULL);
	}
	slot = &rc->slots[rc->open & (REQUEST_SLOTS - 1)];
	slot->ssl = ssl;
	slot->id = id;
	slot->fd = fd;
	rc->open++;
	request_restamp(rc);
	return id;
}

/* The thread started a final response on connection ssl: it answers that connection's oldest. */
static __always_inline void request_answered(__u32 tid, __u64 ssl)
{
	struct request_context *rc = bpf_map_lookup_elem(&request_contexts, &tid);

	if (!rc || !request_remove(rc, ssl, -1, true)) {
		count(TLS_RESPONSE_UNMATCHED);
		return;
	}
	request_restamp(rc);
}

static __always_inline int enter(struct pt_regs *ctx, __u64 ssl, __u64 buf, __u64 count_ptr,
				 __u32 func)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct tls_process *proc;
	struct tls_call *c;

	/* Of every process: any may be sampled in the windows probed-return.h names. */
	probed_return_at_entry(ctx);
	if (!traced(tgid))
		return 0;
	proc = tls_process(tgid, true);
	c = active_slot(id);
	if (!c)
		return 0;
	/* The same thread again is a nested call (Node writes from inside SSL_read): it replaces. */
	if (c->id && c->id != id)
		count(TLS_ACTIVE_FULL);
	c->id = id;
	c->ssl = ssl;
	c->buf = buf;
	c->count_ptr = count_ptr;
	/*
	 * What a read brought only exists from its return (tls.h): most SSL_reads return nothing
	 * (Node reads until OpenSSL wants more), so their clock is not read.
	 */
	c->start_ns = 0;
	if (func == TLS_FN_SSL_WRITE || func == TLS_FN_SSL_WRITE_EX)
		c->start_ns = bpf_ktime_get_ns();
	c->fd = -1;
	c->func = func;
	c->closes = proc ? proc->closes : 0;
	return 0;
}

static __always_inline int leave(struct pt_regs *ctx, __u8 dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id, zero = 0;
	/* SSL_read/SSL_write return int; the upper half of the register is not theirs. */
	int ret = (int)PT_REGS_RC(ctx);
	struct ssl_key sk = {.tgid = tgid};
	struct tls_call call, *c;
	struct ssl_conn *conn;
	struct thread_io *tio;
	struct scratch *s;
	__u64 n = 0;
	__u32 cap, gen = 0, request_id = 0;

	probed_return_at_return(ctx);
	int fd = -1;
	__u8 source = TLS_FD_UNKNOWN;

	c = active_call(id);
	if (!c) {
		/*
		 * Only a call that moved bytes lost data. Node runs JS from OpenSSL's info callback
		 * inside SSL_read (secureConnect), so an SSL_write there replaces the read's entry;
		 * that read usually returns nothing (handshake), and counting it would cry wolf.
		 */
		if (traced(tgid) && ret > 0)
			count(TLS_NO_ENTRY);
		return 0;
	}
	call = *c;
	c->id = 0;
	/* Another thread sharing the slot wrote it while it was copied: its fields are not ours. */
	if (call.id != id) {
		if (ret > 0)
			count(TLS_ACTIVE_FULL);
		return 0;
	}
	if (ret <= 0)
		return 0;
	if (call.func == TLS_FN_SSL_READ_EX || call.func == TLS_FN_SSL_WRITE_EX) {
		if (!call.count_ptr || bpf_probe_read_user(&n, sizeof(n), (void *)call.count_ptr)) {
			count(TLS_READ_FAILED);
			return 0;
		}
	} else {
		n = ret;
	}
	if (n == 0)
		return 0;
	count(TLS_CALLS);
	count_n(TLS_BYTES, n);

	sk.ssl = call.ssl;
	if (call.fd >= 0) {
		fd = call.fd;
		source = TLS_FD_INSIDE_CALL;
	} else if ((conn = bpf_map_lookup_elem(&ssl_conns, &sk))) {
		fd = conn->fd;
		gen = conn->gen;
		/* No tied socket of the process closed since (fd, gen) was checked: it is current. */
		if (conn->closes == call.closes) {
			source = TLS_FD_CACHED;
		} else {
			struct fd_key fk = {.tgid = tgid, .fd = fd};
			__u32 *cur = bpf_map_lookup_elem(&fd_gens, &fk);

			if (cur && *cur == gen) {
				conn->closes = call.closes;
				source = TLS_FD_CACHED;
			}
		}
		if (source != TLS_FD_CACHED) {
			fd = -1;
			gen = 0;
		}
	}
	tio = source == TLS_FD_UNKNOWN ? thread_slot(tid) : NULL;
	if (tio && dir == TLS_DIR_READ) {
		int last = tio->last_read_fd;

		/* Read before the owner is checked: a thread taking the slot meanwhile changes it. */
		if (tio->tid == tid) {
			if (last >= 0 && fd_socket(last)) {
				fd = last;
				source = TLS_FD_PRIOR_READ;
			}
		} else if (tio->tid) {
			/* Another thread's read took the slot after this thread's: its socket is lost. */
			count(TLS_THREADS_FULL);
		}
	} else if (tio) {
		thread_take(tio, tid);
		tio->pending_write_ssl = call.ssl;
	}
	if (source == TLS_FD_INSIDE_CALL || source == TLS_FD_PRIOR_READ)
		gen = associate(tgid, call.ssl, fd, source, call.closes);

	s = bpf_map_lookup_elem(&scratch_buf, &zero);
	if (!s)
		return 0;
	cap = n > TLS_MAX_CAPTURE ? TLS_MAX_CAPTURE : n;
	if (n > TLS_MAX_CAPTURE)
		count(TLS_TRUNCATED);
	/* Keep the bound visible to the verifier whatever clang does with the line above. */
	asm volatile("%[cap] &= 0x7fff" : [cap] "+r"(cap));
	if (cap > TLS_MAX_CAPTURE)
		cap = TLS_MAX_CAPTURE;
	if (bpf_probe_read_user(s->data, cap, (void *)call.buf)) {
		count(TLS_READ_FAILED);
		cap = 0;
	}
	if (request_context && cap >= 16) {
		if (dir == TLS_DIR_READ && starts_request(s->data))
			request_id = request_begin(tid, call.ssl, fd);
		else if (dir == TLS_DIR_WRITE && starts_response(s->data))
			request_answered(tid, call.ssl);
	}
	s->ev.ts_ns = bpf_ktime_get_ns();
	s->ev.type = TLS_EV_DATA;
	s->ev.tgid = tgid;
	s->ev.start_ns = call.start_ns ? call.start_ns : s->ev.ts_ns;
	s->ev.ssl = call.ssl;
	s->ev.tid = tid;
	s->ev.len = n > 0xffffffffULL ? 0xffffffffU : (__u32)n;
	s->ev.cap_len = cap;
	s->ev.fd = fd;
	s->ev.gen = gen;
	s->ev.request_id = request_id;
	s->ev.dir = dir;
	s->ev.func = call.func;
	s->ev.fd_source = source;
	s->ev.__pad = 0;
	s->ev.__pad2 = 0;
	if (bpf_ringbuf_output(&events, s, sizeof(s->ev) + cap, wakeup_flags()))
		count(TLS_DATA_LOST);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_enter, void *ssl, void *buf, int num)
{
	return enter(ctx, (__u64)ssl, (__u64)buf, 0, TLS_FN_SSL_READ);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_read_return)
{
	return leave(ctx, TLS_DIR_READ);
}

/*
 * SSL_write's bytes are all there at entry, yet it is captured at return: only the return says
 * how many went (a write that wants more returns <= 0 and is called again with the same bytes,
 * possibly from a moved buffer; a partial-write mode returns fewer), and a socket BIO's write is
 * tied to its socket by the syscall inside the call. On x86-64 the return half is the cheaper one
 * (the uretprobe syscall, no second trap; the entry's `push %rbp` is emulated, not single-stepped),
 * so dropping it would save little of what a request pays for its six SSL calls' entry traps.
 */
SEC("uprobe")
int BPF_KPROBE(ssl_write_enter, void *ssl, const void *buf, int num)
{
	return enter(ctx, (__u64)ssl, (__u64)buf, 0, TLS_FN_SSL_WRITE);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_write_return)
{
	return leave(ctx, TLS_DIR_WRITE);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_ex_enter, void *ssl, void *buf, size_t num, size_t *readbytes)
{
	return enter(ctx, (__u64)ssl, (__u64)buf, (__u64)readbytes, TLS_FN_SSL_READ_EX);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_read_ex_return)
{
	return leave(ctx, TLS_DIR_READ);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_ex_enter, void *ssl, const void *buf, size_t num, size_t *written)
{
	return enter(ctx, (__u64)ssl, (__u64)buf, (__u64)written, TLS_FN_SSL_WRITE_EX);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_write_ex_return)
{
	return leave(ctx, TLS_DIR_WRITE);
}

static __always_inline void on_close(__u32 tgid, int fd, __u32 *closes)
{
	struct fd_key fk = {.tgid = tgid, .fd = fd};
	struct tls_close_event *ev;
	__u32 *gen = bpf_map_lookup_elem(&fd_gens, &fk);

	if (!gen)
		return;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (ev) {
		ev->ts_ns = bpf_ktime_get_ns();
		ev->type = TLS_EV_CLOSE;
		ev->tgid = tgid;
		ev->fd = fd;
		ev->gen = *gen;
		bpf_ringbuf_submit(ev, wakeup_flags());
	} else {
		count(TLS_CONTROL_LOST);
	}
	__sync_fetch_and_add(gen, 1);
	__sync_fetch_and_add(closes, 1);
}

/*
 * A socket syscall of a TLS process: inside an SSL call it is that call's socket (socket BIO);
 * outside, a read is remembered for the thread's next SSL_read and a write settles the thread's
 * last SSL_write (memory BIO). The fd is taken at entry: what matters is which socket the thread
 * touched, not how much it moved. Cheapest tests first: most syscalls of a TLS process are not
 * socket I/O that matters, and fd_socket() is several reads of kernel memory. So a read outside
 * an SSL call is remembered whatever its fd is, and only the SSL_read of a connection not tied to
 * a socket yet checks that the fd is one (its read comes right before it, on the same thread).
 */
static __always_inline int socket_io(__u64 id, __u32 *closes, bool is_read, int fd, bool is_socket)
{
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct tls_call *call;
	struct thread_io *tio;

	call = active_call(id);
	if (call) {
		if (call->fd < 0 && (is_socket || fd_socket(fd)))
			call->fd = fd;
		return 0;
	}
	tio = thread_slot(tid);
	if (!tio)
		return 0;
	if (is_read) {
		if (tio->tid == tid && tio->last_read_fd == fd)
			return 0;
		thread_take(tio, tid);
		tio->last_read_fd = fd;
	} else if (tio->tid == tid && tio->pending_write_ssl && (is_socket || fd_socket(fd))) {
		__u64 ssl = tio->pending_write_ssl;

		tio->pending_write_ssl = 0;
		associate(tgid, ssl, fd, TLS_FD_NEXT_WRITE, *closes);
	}
	return 0;
}

/* A read or write syscall on fd, which may not be a socket, by a thread of any process. */
static __always_inline int on_socket_io(bool is_read, int fd)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct tls_process *proc = tls_process(tgid, false);

	if (!proc)
		return 0;
	return socket_io(id, &proc->closes, is_read, fd, false);
}

/*
 * A tied fd closed. The closing thread's request on it, if any, is over too: the connection closed
 * before its answer (the client gave up).
 */
static __always_inline void fd_closed(__u32 tid, __u32 tgid, int fd, struct tls_process *proc)
{
	struct request_context *rc;

	on_close(tgid, fd, &proc->closes);
	if (!request_context || !tid)
		return;
	rc = bpf_map_lookup_elem(&request_contexts, &tid);
	if (rc && rc->open && request_remove(rc, 0, fd, false))
		request_restamp(rc);
}

static __always_inline int on_close_syscall(int fd)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_process *proc = tls_process(id >> 32, false);

	if (proc)
		fd_closed((__u32)id, id >> 32, fd, proc);
	return 0;
}

/*
 * The socket I/O hooks come in three forms with the same logic (socket_io):
 *   - preferred: the socket layer's own tracepoints (sock_recv_length, sock_send_length, 6.3+),
 *     which only socket I/O passes, with the syscall and its fd read from the task's saved
 *     registers, and closes from the TCP state tracepoint (see fd_socks). A per-syscall
 *     tracepoint costs every hooked syscall of every process on the host the perf trace-buffer
 *     path (about twice what the program then costs), and any one puts every syscall through the
 *     slow syscall path;
 *   - the per-syscall tracepoints (syscalls/sys_enter_read, ...), attached by the collector to
 *     the nine syscalls below: on a kernel without the socket tracepoints, or when asked for;
 *   - when tracefs is not mounted (those tracepoints are found through it): the raw sys_enter
 *     hook, which every syscall on the host passes through, filtered by number first.
 * fentry on the syscalls' kernel functions would skip the syscall tracing path altogether, but
 * needs the ftrace trampolines that kernels without CONFIG_DYNAMIC_FTRACE lack.
 */
SEC("tracepoint")
int tls_sc_read(struct trace_event_raw_sys_enter *ctx)
{
	return on_socket_io(true, (int)ctx->args[0]);
}

SEC("tracepoint")
int tls_sc_write(struct trace_event_raw_sys_enter *ctx)
{
	return on_socket_io(false, (int)ctx->args[0]);
}

SEC("tracepoint")
int tls_sc_close(struct trace_event_raw_sys_enter *ctx)
{
	return on_close_syscall((int)ctx->args[0]);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(tls_sys_enter, struct pt_regs *regs, long nr)
{
	switch (nr) {
	case NR_read:
	case NR_readv:
	case NR_recvfrom:
	case NR_recvmsg:
		return on_socket_io(true, (int)PT_REGS_PARM1_CORE(regs));
	case NR_write:
	case NR_writev:
	case NR_sendto:
	case NR_sendmsg:
		return on_socket_io(false, (int)PT_REGS_PARM1_CORE(regs));
	case NR_close:
		return on_close_syscall((int)PT_REGS_PARM1_CORE(regs));
	default:
		return 0;
	}
}

/* The syscall a task is in, and its first argument, from the registers it entered with. */
#if defined(__TARGET_ARCH_x86)
#define SYSCALL_NR(regs)   ((regs)->orig_ax)
#define SYSCALL_ARG1(regs) ((regs)->di)
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_NR(regs)   ((regs)->syscallno)
#define SYSCALL_ARG1(regs) ((regs)->orig_x0)
#endif

/* Whether nr is one of the socket reads (or writes) whose fd the other hooks look at. */
static __always_inline bool hooked_syscall(long nr, bool is_read)
{
	if (is_read)
		return nr == NR_read || nr == NR_readv || nr == NR_recvfrom || nr == NR_recvmsg;
	return nr == NR_write || nr == NR_writev || nr == NR_sendto || nr == NR_sendmsg;
}

/*
 * Socket I/O seen by the socket layer. Only what one of the hooked syscalls does on its fd
 * counts: the same socket reached otherwise (io_uring, sendfile, splice) has no fd to tie.
 */
static __always_inline int on_socket_layer(const struct sock *sk, bool is_read)
{
	__u64 id = bpf_get_current_pid_tgid(), s = (__u64)sk, *cur;
	__u32 tgid = id >> 32;
	struct tls_process *proc = tls_process(tgid, false);
	struct fd_key fk = {.tgid = tgid};
	struct pt_regs *regs;
	bool known;
	long nr;
	int ret;

	if (!proc)
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	nr = SYSCALL_NR(regs);
	if (!hooked_syscall(nr, is_read))
		return 0;
	fk.fd = (int)SYSCALL_ARG1(regs);
	/* A tied fd that is another socket now: the old one's close went unseen (see fd_socks). */
	cur = bpf_map_lookup_elem(&fd_socks, &fk);
	known = cur && *cur == s;
	if (cur && !known) {
		bpf_map_delete_elem(&fd_socks, &fk);
		fd_closed(0, tgid, fk.fd, proc);
	}
	ret = socket_io(id, &proc->closes, is_read, fk.fd, true);
	if (!known && bpf_map_lookup_elem(&fd_gens, &fk)) {
		bpf_map_update_elem(&fd_socks, &fk, &s, BPF_ANY);
		bpf_map_update_elem(&sock_fds, &s, &fk, BPF_ANY);
	}
	return ret;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(tls_sock_recv, struct sock *sk, int ret, int flags)
{
	return on_socket_layer(sk, true);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(tls_sock_send, struct sock *sk, int ret, int flags)
{
	return on_socket_layer(sk, false);
}

/*
 * A tied socket's close (FIN_WAIT1 from ESTABLISHED, LAST_ACK from CLOSE_WAIT) or reset (CLOSE),
 * with the socket-layer hooks: close's, run by the closing thread as its last reference goes.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tls_sock_state, const struct sock *sk, const int oldstate, const int newstate)
{
	__u64 id, s = (__u64)sk, *cur;
	struct tls_process *proc;
	struct fd_key *found, fk;

	if (newstate != TCP_FIN_WAIT1 && newstate != TCP_LAST_ACK && newstate != TCP_CLOSE)
		return 0;
	found = bpf_map_lookup_elem(&sock_fds, &s);
	if (!found)
		return 0;
	fk = *found;
	bpf_map_delete_elem(&sock_fds, &s);
	/* The fd may be another socket already, whose tie stays. */
	cur = bpf_map_lookup_elem(&fd_socks, &fk);
	if (!cur || *cur != s)
		return 0;
	bpf_map_delete_elem(&fd_socks, &fk);
	proc = tls_process(fk.tgid, false);
	if (!proc)
		return 0;
	/* A reset comes in softirq, on any task's time: only the closing thread has a request to end. */
	id = bpf_get_current_pid_tgid();
	fd_closed(id >> 32 == fk.tgid ? (__u32)id : 0, fk.tgid, fk.fd, proc);
	return 0;
}

static __always_inline void proc_event(__u32 type, __u32 tgid)
{
	struct tls_proc_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	if (!ev) {
		count(TLS_CONTROL_LOST);
		return;
	}
	ev->ts_ns = bpf_ktime_get_ns();
	ev->type = type;
	ev->tgid = tgid;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	/*
	 * An exec is worth a wake-up: the sooner its executable is attached, the less TLS it does
	 * unseen.
	 */
	bpf_ringbuf_submit(ev, type == TLS_EV_EXEC ? 0 : wakeup_flags());
}

/* Every exec, so that user space can attach to a new executable before it gets to TLS. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(tls_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (traced(tgid))
		proc_event(TLS_EV_EXEC, tgid);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tls_exit, struct task_struct *p)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct tls_call *call = active_call(id);
	struct thread_io *tio = thread_slot(tid);
	struct tls_process *proc;
	__u32 slot = tgid & process_mask;

	if (call)
		call->id = 0;
	if (tio && tio->tid == tid)
		tio->tid = 0;
	bpf_map_delete_elem(&request_contexts, &tid);
	if (tgid != tid)
		return 0;
	proc = bpf_map_lookup_elem(&tls_procs, &slot);
	if (proc && proc->tgid == tgid) {
		/* The next process of this number is not taken for one that does TLS. */
		proc->tgid = 0;
		bpf_map_delete_elem(&tls_tgids, &tgid);
	} else if (bpf_map_delete_elem(&tls_tgids, &tgid)) {
		return 0;
	}
	proc_event(TLS_EV_EXIT, tgid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
