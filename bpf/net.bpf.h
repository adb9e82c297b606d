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

#endif /* FIRESIGHT_NET_BPF_H */
