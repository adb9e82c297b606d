/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Socket constants as the kernel numbers them (include/linux/socket.h, include/uapi/linux/in.h):
 * vmlinux.h carries the kernel's types but none of its #defines.
 */
#ifndef FIRESIGHT_NET_BPF_H
#define FIRESIGHT_NET_BPF_H

#define AF_INET	    2
#define AF_INET6    10
#define IPPROTO_TCP 6

/* Kernel TCP states (include/net/tcp_states.h): a stable ABI, also in /proc/net/tcp. */
#define TCP_ESTABLISHED	 1
#define TCP_SYN_SENT	 2
#define TCP_SYN_RECV	 3
#define TCP_FIN_WAIT1	 4
#define TCP_CLOSE	 7
#define TCP_LAST_ACK	 9
#define TCP_LISTEN	 10
#define TCP_NEW_SYN_RECV 12

#endif /* FIRESIGHT_NET_BPF_H */
