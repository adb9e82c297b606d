/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* errno values that helper results are compared with (include/uapi/asm-generic/errno-base.h). */
#ifndef FIRESIGHT_ERRNO_BPF_H
#define FIRESIGHT_ERRNO_BPF_H

#define EFAULT 14
#define EEXIST 17

#endif /* FIRESIGHT_ERRNO_BPF_H */
