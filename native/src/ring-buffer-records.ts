/**
 * Splits a ring-buffer batch from the addon (records as {u32 length, u32 reserved, bytes, padding
 * to 8}) into views over each record, without copying.
 */
export function* ringBufferRecords(batch: ArrayBuffer): Generator<DataView> {
	const view = new DataView(batch);
	let off = 0;
	while (off + 8 <= batch.byteLength) {
		const len = view.getUint32(off, true);
		if (off + 8 + len > batch.byteLength) throw new Error(`ring-buffer record of ${len} bytes runs past its batch`);
		yield new DataView(batch, off + 8, len);
		off += 8 + Math.ceil(len / 8) * 8;
	}
}
