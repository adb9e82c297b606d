import { endianness } from 'node:os';
import type { Frame } from '@firesight/protocol';

/** Frame kinds as the `frames.kind` column stores them. */
export const KINDS = ['user', 'kernel', 'jit'] as const;
export const KIND_CODE: Record<Frame['kind'], number> = { user: 0, kernel: 1, jit: 2 };

/** A stack's database frame ids, root first, as the `stacks.frame_ids` blob (uint32 LE). */
export function encodeStack(ids: ArrayLike<number>, length = ids.length): Buffer {
	const buf = Buffer.allocUnsafe(length * 4);
	for (let i = 0; i < length; i++) buf.writeUInt32LE(ids[i]!, i * 4);
	return buf;
}

export function decodeStack(buf: Buffer): number[] {
	const ids = new Array<number>(buf.length >>> 2);
	for (let i = 0; i < ids.length; i++) ids[i] = buf.readUInt32LE(i * 4);
	return ids;
}

/** Packs (stack_id, pid, comm_id, count) quadruples as little-endian uint32s: `window_samples.data`. */
export function packSamples(quads: readonly number[]): Buffer {
	const buf = Buffer.allocUnsafe(quads.length * 4);
	for (let i = 0; i < quads.length; i++) buf.writeUInt32LE(quads[i]!, i * 4);
	return buf;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** A window's packed samples as uint32 words, without a copy when the platform allows. */
export function sampleWords(data: Buffer): Uint32Array {
	if (LITTLE_ENDIAN && data.byteOffset % 4 === 0) return new Uint32Array(data.buffer, data.byteOffset, data.length >>> 2);
	const words = new Uint32Array(data.length >>> 2);
	for (let i = 0; i < words.length; i++) words[i] = data.readUInt32LE(i * 4);
	return words;
}

/** The request labels of a sample as one `sample_labels` row stores them. */
export interface LabelRow {
	endpoint: string;
	requestId: string;
	ambiguous: boolean;
}

/** A sample's request labels as a row, or null when it has none (label id 0). */
export function labelRowOf(s: {
	endpoint?: string | undefined;
	requestId?: string | undefined;
	ambiguous?: boolean | undefined;
}): LabelRow | null {
	if (s.endpoint === undefined && s.requestId === undefined && s.ambiguous !== true) return null;
	return { endpoint: s.endpoint ?? '', requestId: s.requestId ?? '', ambiguous: s.ambiguous === true };
}

/** The labels a query answer's sample carries for a row: only those set. */
export function sampleLabelsOf(row: LabelRow): { endpoint?: string; requestId?: string; ambiguous?: boolean } {
	const out: { endpoint?: string; requestId?: string; ambiguous?: boolean } = {};
	if (row.endpoint !== '') out.endpoint = row.endpoint;
	if (row.requestId !== '') out.requestId = row.requestId;
	if (row.ambiguous) out.ambiguous = true;
	return out;
}
