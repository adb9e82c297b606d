/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What every tool header (<tool>.h) needs, in both BPF C and the addon's C++. */
#ifndef FIRESIGHT_SHARED_H
#define FIRESIGHT_SHARED_H

#ifdef __cplusplus
#include <linux/types.h>
#define FS_STATIC_ASSERT static_assert
#else
#define FS_STATIC_ASSERT _Static_assert
#endif

#endif /* FIRESIGHT_SHARED_H */
