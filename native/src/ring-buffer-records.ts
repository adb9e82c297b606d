/** sizeof(struct ring_buffer_frame) in ring-buffer-frame.h: {u32 len, u32 reserved}. */
export const RING_BUFFER_FRAME_SIZE = 8;
/** RING_BUFFER_FRAME_ALIGN: each record's bytes are padded with zeros to a multiple of it. */
export const RING_BUFFER_FRAME_ALIGN = 8;

/**
 * Splits a ring-buffer batch from the addon (framed as ring-buffer-frame.h lays out) into views
 * over each record, without copying. A record or frame that runs past the batch throws.
 */
export function* ringBufferRecords(batch: ArrayBuffer): Generator<DataView> {
	const view = new DataView(batch);
	let off = 0;
	while (off < batch.byteLength) {
		if (off + RING_BUFFER_FRAME_SIZE > batch.byteLength) {
			throw new Error(`ring-buffer batch ends with ${batch.byteLength - off} bytes, less than a frame header`);
		}
		const len = view.getUint32(off, true);
		const start = off + RING_BUFFER_FRAME_SIZE;
		if (start + len > batch.byteLength) throw new Error(`ring-buffer record of ${len} bytes runs past its batch`);
		yield new DataView(batch, start, len);
		off = start + Math.ceil(len / RING_BUFFER_FRAME_ALIGN) * RING_BUFFER_FRAME_ALIGN;
	}
}
