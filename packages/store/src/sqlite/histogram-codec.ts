import { REQUEST_LATENCY_BUCKETS } from '@firesight/protocol';
import { emptyHistogram } from '../request-histogram.ts';

/** Histogram counts as little-endian uint32s, the way they are stored. */
export function packHistogram(histogram: readonly number[]): Buffer {
	const buf = Buffer.alloc(REQUEST_LATENCY_BUCKETS * 4);
	for (let i = 0; i < REQUEST_LATENCY_BUCKETS; i++) buf.writeUInt32LE(Math.min(0xffff_ffff, histogram[i] ?? 0), i * 4);
	return buf;
}

export function unpackHistogram(buf: Buffer): number[] {
	const out = emptyHistogram();
	for (let i = 0; i < REQUEST_LATENCY_BUCKETS && (i + 1) * 4 <= buf.length; i++) out[i] = buf.readUInt32LE(i * 4);
	return out;
}
