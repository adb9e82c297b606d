// How the addon frames ring-buffer records in a batch for JavaScript (ring-buffer-records.ts):
// each record is a struct ring_buffer_frame, the record's bytes, then zeros up to the next
// multiple of RING_BUFFER_FRAME_ALIGN, so every record starts 8-byte aligned for DataView reads.
// Plain C as well as C++: the decoder's golden-byte tests compile it.
#ifndef FIRESIGHT_RING_BUFFER_FRAME_H
#define FIRESIGHT_RING_BUFFER_FRAME_H

#include <linux/types.h>

#include "shared.h"

#define RING_BUFFER_FRAME_ALIGN 8

struct ring_buffer_frame {
	__u32 len;	  // bytes of the record that follows, without the padding
	__u32 __reserved; // zero
};
FS_STATIC_ASSERT(sizeof(struct ring_buffer_frame) == 8,
		 "ring_buffer_frame layout is shared with TypeScript");

#endif // FIRESIGHT_RING_BUFFER_FRAME_H
