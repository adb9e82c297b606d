// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcp: TCP retransmits and the connection life cycle, aggregated per connection in a hash map
 * keyed by the socket cookie, plus ring-buffer events for the live view.
 *
 * Retransmits run in softirq or timer context, where the current task is whoever happened to be on
 * the CPU. The owner is therefore recorded where the process context is the owner's:
 *   connect(): the state change to SYN_SENT runs in the caller (tcp_v4/v6_connect);
 *   listen():  the state change to LISTEN runs in the caller;
 *   accept():  the accept/accept4 syscall exit runs in the accepting process (the child socket
 *              itself is born and ESTABLISHED in softirq, so its state changes say nothing
 *              about the owner).
 * Retransmits then read the owner from the connection's entry.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "counters.bpf.h"
#include "errno.bpf.h"
#include "net.bpf.h"
#include "tcp.h"

/* Set by the collector before load: 0 turns the per-retransmit events off (counts stay exact). */
const volatile bool emit_retransmits = true;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64); /* socket cookie */
	__type(value, struct tcp_conn);
	__uint(max_entries, 65536);
} conns SEC(".maps");

/*
 * SYN-ACK retransmits happen before the connection has a full socket (only a request_sock), so
 * they wait here under the 4-tuple until the child socket reaches ESTABLISHED and takes them.
 * LRU: requests that never complete (a SYN flood) age out instead of filling it.
 */
struct synack_pending {
	__u64 first_ns;
	__u64 last_ns;
	__u32 count;
	__u32 __pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct tcp_tuple);
	__type(value, struct synack_pending);
	__uint(max_entries, 8192);
} synacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, TCP_COUNTER_MAX);
} counters SEC(".maps");

static __always_inline void count(__u32 counter, __u64 n)
{
	percpu_counter_add(&counters, counter, n);
}

static __always_inline void read_tuple(const struct sock_common *skc, struct tcp_tuple *t)
{
	t->__pad = 0;
	t->family = BPF_CORE_READ(skc, skc_family);
	t->sport = BPF_CORE_READ(skc, skc_num);
	t->dport = bpf_ntohs(BPF_CORE_READ(skc, skc_dport));
	if (t->family == AF_INET6) {
		BPF_CORE_READ_INTO(&t->saddr, skc, skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&t->daddr, skc, skc_v6_daddr.in6_u.u6_addr8);
	} else {
		__builtin_memset(t->saddr, 0, sizeof(t->saddr));
		__builtin_memset(t->daddr, 0, sizeof(t->daddr));
		BPF_CORE_READ_INTO((__u32 *)t->saddr, skc, skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)t->daddr, skc, skc_daddr);
	}
}

/*
 * The tuple and byte counts as they are now: called at every event, since the source port is
 * bound only after SYN_SENT. The tuple is kept when the socket no longer has its port: on the
 * way to CLOSE (time-wait hand-off, unhash) the kernel may have released it already.
 */
static __always_inline void refresh(struct tcp_conn *c, const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	struct tcp_tuple t;

	read_tuple(&sk->__sk_common, &t);
	if (t.sport && t.dport)
		__builtin_memcpy(&c->tuple, &t, sizeof(t));
	c->bytes_acked = BPF_CORE_READ(tp, bytes_acked);
	c->bytes_received = BPF_CORE_READ(tp, bytes_received);
}

static __always_inline void set_owner(struct tcp_conn *c)
{
	c->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(&c->comm, sizeof(c->comm));
	c->flags |= TCP_CONN_OWNER_KNOWN;
}

static __always_inline __u32 total_retrans(const struct sock *sk)
{
	return BPF_CORE_READ((const struct tcp_sock *)sk, total_retrans);
}

/*
 * The connection's entry, created (as seen midway) when missing. NULL only when the map is full.
 * `counted` is what the socket's total_retrans already holds that the caller will count itself.
 */
static __always_inline struct tcp_conn *conn_get(__u64 cookie, const struct sock *sk, __u64 now,
						 __u32 counted)
{
	struct tcp_conn *c = bpf_map_lookup_elem(&conns, &cookie);
	struct tcp_conn init = {};
	long err;

	if (c)
		return c;
	init.start_ns = now;
	init.state = BPF_CORE_READ(sk, __sk_common.skc_state);
	init.flags = TCP_CONN_MIDWAY;
	init.total_retrans = total_retrans(sk) - counted;
	err = bpf_map_update_elem(&conns, &cookie, &init, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		count(TCP_CONNECTIONS_MAP_FULL, 1);
		return NULL;
	}
	return bpf_map_lookup_elem(&conns, &cookie);
}

/* A fresh entry for a connection that starts now, replacing any leftover under the same cookie. */
static __always_inline struct tcp_conn *conn_start(__u64 cookie, const struct sock *sk, __u8 state,
						   __u8 flags, __u64 now)
{
	struct tcp_conn init = {};

	init.start_ns = now;
	init.state = state;
	init.flags = flags;
	init.total_retrans = total_retrans(sk);
	if (bpf_map_update_elem(&conns, &cookie, &init, BPF_ANY)) {
		count(TCP_CONNECTIONS_MAP_FULL, 1);
		return NULL;
	}
	return bpf_map_lookup_elem(&conns, &cookie);
}

static __always_inline void emit(__u32 kind, __u64 cookie, __u64 now, const struct tcp_conn *c,
				 __u32 segs, __s32 err, __u8 old_state)
{
	struct tcp_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(TCP_RING_BUFFER_FULL, 1);
		return;
	}
	e->ts_ns = now;
	e->cookie = cookie;
	e->kind = kind;
	e->segs = segs;
	e->err = err;
	e->old_state = old_state;
	e->__pad[0] = e->__pad[1] = e->__pad[2] = 0;
	__builtin_memcpy(&e->conn, c, sizeof(e->conn));
	bpf_ringbuf_submit(e, 0);
}

/*
 * Segments are counted the way TcpRetransSegs counts them: the kernel adds tcp_skb_pcount(skb)
 * (several segments under TSO/GSO) to both TcpRetransSegs and the socket's total_retrans in one
 * place, before it transmits, so a retransmit that then fails to transmit still counts, while one
 * that gives up earlier (-EBUSY: the original still sits in a queue; -ENOMEM; -EAGAIN) does not.
 * The tracepoint fires after either, and the err argument alone cannot tell them apart, so the
 * count is the growth of total_retrans since the previous event on this socket.
 */
static __always_inline int on_retransmit(const struct sock *sk, const struct sk_buff *skb, int err)
{
	const struct tcp_skb_cb *cb = (const void *)skb + bpf_core_field_offset(struct sk_buff, cb);
	__u32 pcount = BPF_CORE_READ(cb, tcp_gso_segs);
	__u64 cookie = bpf_get_socket_cookie((void *)sk);
	__u64 now = bpf_ktime_get_ns();
	__u32 total = total_retrans(sk);
	struct tcp_conn *c;
	__u32 segs;

	count(TCP_RETRANSMIT_CALLS, 1);
	if (!pcount)
		pcount = 1;
	/* First sight of a socket opened before tracing: this call's segments are its first. */
	c = conn_get(cookie, sk, now, err ? 0 : pcount);
	if (!c)
		return 0;
	refresh(c, sk);
	/* total_retrans only goes down when tcp_disconnect() resets the socket for reuse. */
	segs = total >= c->total_retrans ? total - c->total_retrans : total;
	c->total_retrans = total;
	if (err)
		__sync_fetch_and_add(&c->retrans_failed, 1);
	if (segs) {
		count(TCP_RETRANSMIT_SEGMENTS, segs);
		__sync_fetch_and_add(&c->retrans_segs, segs);
		__sync_fetch_and_add(&c->retrans_skbs, 1);
		if (!c->first_retrans_ns)
			c->first_retrans_ns = now;
		c->last_retrans_ns = now;
		if (!(c->flags & TCP_CONN_OWNER_KNOWN))
			count(TCP_OWNER_UNKNOWN, 1);
	}
	if (emit_retransmits)
		emit(TCP_EVENT_RETRANSMIT, cookie, now, c, segs, err, 0);
	return 0;
}

/* Linux 6.18 and later pass the result; the tracepoint then fires for failures too. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tcp_retransmit_skb, const struct sock *sk, const struct sk_buff *skb, int err)
{
	return on_retransmit(sk, skb, err);
}

/* Earlier kernels: two arguments, fired only for retransmits that were sent. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tcp_retransmit_skb_v1, const struct sock *sk, const struct sk_buff *skb)
{
	return on_retransmit(sk, skb, 0);
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(tcp_retransmit_synack, const struct sock *sk, const struct request_sock *req)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 listener = bpf_get_socket_cookie((void *)sk);
	struct synack_pending *p, init = {};
	struct tcp_conn ev = {};
	struct tcp_conn *owner;

	count(TCP_SYNACK_RETRANSMITS, 1);
	read_tuple(&req->__req_common, &ev.tuple);
	p = bpf_map_lookup_elem(&synacks, &ev.tuple);
	if (p) {
		__sync_fetch_and_add(&p->count, 1);
		p->last_ns = now;
		ev.synack_retrans = p->count;
		ev.start_ns = p->first_ns;
	} else {
		init.first_ns = init.last_ns = now;
		init.count = 1;
		if (bpf_map_update_elem(&synacks, &ev.tuple, &init, BPF_ANY))
			count(TCP_SYNACK_PENDING_FULL, 1);
		ev.synack_retrans = 1;
		ev.start_ns = now;
	}
	/* The listener's owner is the best guess until accept() names the real one. */
	owner = bpf_map_lookup_elem(&conns, &listener);
	if (owner) {
		ev.pid = owner->pid;
		__builtin_memcpy(ev.comm, owner->comm, sizeof(ev.comm));
	}
	ev.state = TCP_NEW_SYN_RECV;
	ev.flags = TCP_CONN_PASSIVE;
	ev.first_retrans_ns = ev.start_ns;
	ev.last_retrans_ns = now;
	if (emit_retransmits)
		emit(TCP_EVENT_SYNACK_RETRANSMIT, 0, now, &ev, 1, 0, 0);
	return 0;
}

/* Moves SYN-ACK retransmits counted under the request's tuple onto the child connection. */
static __always_inline void take_synacks(struct tcp_conn *c)
{
	struct synack_pending *p = bpf_map_lookup_elem(&synacks, &c->tuple);

	if (!p)
		return;
	c->synack_retrans += p->count;
	if (!c->first_retrans_ns || p->first_ns < c->first_retrans_ns)
		c->first_retrans_ns = p->first_ns;
	if (p->last_ns > c->last_retrans_ns)
		c->last_retrans_ns = p->last_ns;
	bpf_map_delete_elem(&synacks, &c->tuple);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(inet_sock_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	__u64 cookie, now;
	struct tcp_conn *c;
	__u32 total, segs;

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP || oldstate == newstate)
		return 0;
	count(TCP_STATE_CHANGES, 1);
	cookie = bpf_get_socket_cookie((void *)sk);
	now = bpf_ktime_get_ns();

	switch (newstate) {
	case TCP_SYN_SENT:
		/* connect(), in the caller's context. The source port is not bound yet. */
		c = conn_start(cookie, sk, newstate, TCP_CONN_ACTIVE, now);
		if (c)
			set_owner(c);
		return 0;
	case TCP_LISTEN:
		c = conn_start(cookie, sk, newstate, 0, now);
		if (c)
			set_owner(c);
		return 0;
	case TCP_SYN_RECV:
		if (oldstate == TCP_LISTEN) {
			/* A child cloned from its listener in softirq: no owner until accept(). */
			conn_start(cookie, sk, newstate, TCP_CONN_PASSIVE, now);
			return 0;
		}
		break;
	}

	c = conn_get(cookie, sk, now, 0);
	if (!c)
		return 0;
	c->state = newstate;
	refresh(c, sk);
	/*
	 * A tail loss probe retransmits through __tcp_retransmit_skb() without the tracepoint, so
	 * growth of total_retrans since the last retransmit event is counted here rather than lost:
	 * TcpRetransSegs counted it too. A passive child's total_retrans starts at its request's
	 * SYN-ACK retransmits, which take_synacks() counts apart.
	 */
	total = total_retrans(sk);
	if (total > c->total_retrans &&
	    !(newstate == TCP_ESTABLISHED && (c->flags & TCP_CONN_PASSIVE))) {
		segs = total - c->total_retrans;
		count(TCP_RETRANSMIT_SEGMENTS, segs);
		__sync_fetch_and_add(&c->retrans_segs, segs);
		c->last_retrans_ns = now;
		if (!c->first_retrans_ns)
			c->first_retrans_ns = now;
	}
	c->total_retrans = total;
	if (newstate == TCP_ESTABLISHED) {
		if (c->flags & TCP_CONN_PASSIVE)
			take_synacks(c);
		else if (c->flags & TCP_CONN_ACTIVE)
			emit(TCP_EVENT_OPEN, cookie, now, c, 0, 0, oldstate);
	} else if (newstate == TCP_CLOSE) {
		c->end_ns = now;
		emit(TCP_EVENT_CLOSE, cookie, now, c, 0, 0, oldstate);
	}
	return 0;
}

/*
 * accept() and accept4() in the accepting process: the new descriptor leads to the socket.
 * fexit/inet_accept would be simpler, but fentry-class programs do not load on every kernel
 * (not on the one this was written on); the syscall tracepoints do.
 */
static __always_inline int on_accept(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file **fds, *file;
	struct socket *sock;
	struct sock *sk;
	__u64 cookie, now;
	struct tcp_conn *c;

	if (fd < 0)
		return 0;
	fds = BPF_CORE_READ(task, files, fdt, fd);
	if (!fds || bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	/* A socket's file and socket point at each other; anything else is not a socket. */
	if (!sock || BPF_CORE_READ(sock, file) != file)
		return 0;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	/*
	 * The cookie the other programs key by. They made it when the child socket was born
	 * (bpf_get_socket_cookie creates it on first use), so it is set unless that was missed.
	 */
	cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	if (!cookie) {
		count(TCP_OWNER_MISSED, 1);
		return 0;
	}
	now = bpf_ktime_get_ns();
	c = conn_get(cookie, sk, now, 0);
	if (!c)
		return 0;
	c->flags |= TCP_CONN_PASSIVE;
	c->flags &= ~TCP_CONN_MIDWAY;
	set_owner(c);
	refresh(c, sk);
	take_synacks(c);
	emit(TCP_EVENT_OPEN, cookie, now, c, 0, 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
