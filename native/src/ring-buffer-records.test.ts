import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goldenBytes, toArrayBuffer } from '@firesight/testing/golden-c';
import { RING_BUFFER_FRAME_ALIGN, RING_BUFFER_FRAME_SIZE, ringBufferRecords } from './ring-buffer-records.ts';

/*
 * The golden batch comes from C: records of several lengths framed with ring-buffer-frame.h, as
 * the addon's RingBufferStream frames them. If the frame or its padding changes there, the
 * decoder no longer finds the records and this fails.
 */
const batch = () =>
	goldenBytes(`int main(void)
{
	unsigned char r[13];

	for (unsigned i = 0; i < sizeof(r); i++)
		r[i] = 0xa0 + i;
	dump_record(r, 1);
	dump_record(r, 0);
	dump_record(r, 13);
	dump_record(r, 8);
	return 0;
}
`);

test('records of any length come out of a C-framed batch whole and in order', () => {
	const records = [...ringBufferRecords(toArrayBuffer(batch()))];
	const fill = (n: number) => Array.from({ length: n }, (_, i) => 0xa0 + i);
	assert.deepEqual(
		records.map((r) => [...new Uint8Array(r.buffer, r.byteOffset, r.byteLength)]),
		[fill(1), fill(0), fill(13), fill(8)],
	);
});

test('the frame size and alignment match ring-buffer-frame.h', () => {
	const sizes = goldenBytes(`int main(void)
{
	unsigned s[2] = {sizeof(struct ring_buffer_frame), RING_BUFFER_FRAME_ALIGN};

	dump(s, sizeof(s));
	return 0;
}
`);
	assert.deepEqual([sizes.readUInt32LE(0), sizes.readUInt32LE(4)], [RING_BUFFER_FRAME_SIZE, RING_BUFFER_FRAME_ALIGN]);
});

test('a batch cut inside a frame or a record throws', () => {
	const whole = batch();
	assert.throws(() => [...ringBufferRecords(toArrayBuffer(whole.subarray(0, 4)))], /less than a frame header/);
	// Cut inside the 13-byte record: its frame claims more than the batch holds.
	const cut = RING_BUFFER_FRAME_SIZE + 8 + RING_BUFFER_FRAME_SIZE + RING_BUFFER_FRAME_SIZE + 5;
	assert.throws(() => [...ringBufferRecords(toArrayBuffer(whole.subarray(0, cut)))], /runs past its batch/);
});
