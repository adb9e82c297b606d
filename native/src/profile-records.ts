/**
 * Decoders for the profile tool's drained batches. The layouts are bpf/profile.h's
 * `struct profile_count` and `struct profile_stack_head`; golden-byte tests pin them.
 */
import { decodeCounterArray } from './counter-records.ts';

export const PROFILE_COMM_LEN = 16;
export const PROFILE_COUNT_SIZE = 40;
export const PROFILE_STACK_HEAD_SIZE = 8;

/** enum profile_counter in bpf/profile.h, in order. */
export const PROFILE_COUNTERS = [
	'samples',
	'userStackMissing',
	'kernelStackMissing',
	'stackCollisions',
	'countsMapFull',
	'unwindNoMapping',
	'unwindNoTable',
	'unwindLookupFailed',
	'unwindReadFault',
	'unwindTooDeep',
	'unwindMappingsFull',
	'unwindStacksFull',
	'unwindRuleUnsupported',
	'unwindNoProgress',
	'unwindFramePointerLost',
	'unwindTablePending',
	'unwindDeferred',
	'unwindDeferRingFull',
	'unwindDeferQueueFull',
	'unwindProcessExited',
	'unwindProcessExeced',
	'unwindUretprobeTrampoline',
	'unwindZeroReturn',
] as const;
export type ProfileCounter = (typeof PROFILE_COUNTERS)[number];

export interface StackCount {
	pid: number;
	/** Stack-map id, or a negative errno when the stack could not be walked. */
	userStackId: number;
	kernelStackId: number;
	comm: string;
	count: number;
	/** The request the sampled thread was serving (bpf/request-context.h); absent for none. */
	requestId?: number;
	/** Several requests were open on the thread: `requestId` is the one read last. */
	requestAmbiguous?: true;
	/**
	 * A deferred sample whose process exec'd before its replay: its user addresses are of the
	 * program before the exec, which the process's mappings now no longer show.
	 */
	execed?: true;
}

/** bpf/request-context.h: REQUEST_AMBIGUOUS marks a stamped id. */
const REQUEST_AMBIGUOUS = 0x8000_0000;

const decoder = new TextDecoder();

function cString(bytes: Uint8Array): string {
	const end = bytes.indexOf(0);
	return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** struct profile_count records: {pid u32, user_stack_id s32, kern_stack_id s32, request_id u32, comm[16], count u64}. */
export function decodeCounts(buf: ArrayBuffer): StackCount[] {
	if (buf.byteLength % PROFILE_COUNT_SIZE !== 0) {
		throw new Error(`profile counts batch of ${buf.byteLength} bytes is not a multiple of ${PROFILE_COUNT_SIZE}`);
	}
	const view = new DataView(buf);
	const out: StackCount[] = [];
	for (let off = 0; off < buf.byteLength; off += PROFILE_COUNT_SIZE) {
		const rec: StackCount = {
			pid: view.getUint32(off, true),
			userStackId: view.getInt32(off + 4, true),
			kernelStackId: view.getInt32(off + 8, true),
			comm: cString(new Uint8Array(buf, off + 16, PROFILE_COMM_LEN)),
			count: Number(view.getBigUint64(off + 32, true)),
		};
		const request = view.getUint32(off + 12, true);
		if (request !== 0) {
			rec.requestId = request & ~REQUEST_AMBIGUOUS;
			if (request & REQUEST_AMBIGUOUS) rec.requestAmbiguous = true;
		}
		out.push(rec);
	}
	return out;
}

/**
 * Stack records (struct profile_stack_head {id s32, nr u32}, then nr u64 addresses, leaf first)
 * into a map from stack id to addresses.
 */
export function decodeStacks(buf: ArrayBuffer): Map<number, bigint[]> {
	const view = new DataView(buf);
	const out = new Map<number, bigint[]>();
	let off = 0;
	while (off < buf.byteLength) {
		if (off + PROFILE_STACK_HEAD_SIZE > buf.byteLength) throw new Error('truncated stack record header');
		const id = view.getInt32(off, true);
		const nr = view.getUint32(off + 4, true);
		off += PROFILE_STACK_HEAD_SIZE;
		if (off + nr * 8 > buf.byteLength) throw new Error(`stack ${id} claims ${nr} frames past the batch end`);
		const ips: bigint[] = new Array(nr);
		for (let i = 0; i < nr; i++) ips[i] = view.getBigUint64(off + i * 8, true);
		off += nr * 8;
		out.set(id, ips);
	}
	return out;
}

/** The counters array (u64 per enum profile_counter) as named totals; throws on a size mismatch. */
export function decodeCounters(buf: ArrayBuffer): Record<ProfileCounter, number> {
	return decodeCounterArray('profile', PROFILE_COUNTERS, buf);
}

/** A list of u32 process ids (the window's unmapped pids). */
export function decodePids(buf: ArrayBuffer): number[] {
	if (buf.byteLength % 4 !== 0) throw new Error(`pid list of ${buf.byteLength} bytes is not a multiple of 4`);
	return [...new Uint32Array(buf.slice(0))];
}

/** UNWIND_WANTED_FILE in bpf/unwind.h: an id of the unmapped sets that names a wanted table's file. */
export const UNWIND_WANTED_FILE = 0x8000_0000;

/**
 * The ids of an unmapped set: processes whose samples hit unknown code, and the files of tables
 * loaded only once wanted that samples landed in.
 */
export function decodeUnmapped(buf: ArrayBuffer): { unmappedPids: number[]; wantedFiles: number[] } {
	const unmappedPids: number[] = [];
	const wantedFiles: number[] = [];
	for (const id of decodePids(buf)) {
		if (id >= UNWIND_WANTED_FILE) wantedFiles.push(id - UNWIND_WANTED_FILE);
		else unmappedPids.push(id);
	}
	return { unmappedPids, wantedFiles };
}

/** struct profile_deferred in bpf/profile.h: the bytes before its stack copy. */
export const PROFILE_DEFERRED_HEAD_SIZE = 72 + 8 * 127 + 40 + 8 * 4;
export const PROFILE_DEFER_STACK_BYTES = 65536;

/** A sample copied for a later walk (bpf/profile.h's struct profile_deferred, its stack cut to what was read). */
export interface DeferredSample {
	pid: number;
	comm: string;
	requestId?: number;
	requestAmbiguous?: true;
	/** The kernel stack at the sample, leaf first; empty for a sample taken in user mode. */
	kernelIps: bigint[];
	/** The record as drained, for the walker to replay. */
	record: Uint8Array;
}

/** Deferred records, each struct profile_deferred's head followed by its stack_len bytes of stack. */
export function decodeDeferred(buf: ArrayBuffer): DeferredSample[] {
	const view = new DataView(buf);
	const out: DeferredSample[] = [];
	let off = 0;
	while (off < buf.byteLength) {
		if (off + PROFILE_DEFERRED_HEAD_SIZE > buf.byteLength) throw new Error('truncated deferred sample record');
		const stackLen = view.getUint32(off + 44, true);
		const kernNr = view.getUint32(off + 40, true);
		if (stackLen > PROFILE_DEFER_STACK_BYTES || kernNr > 127)
			throw new Error(`deferred sample record with ${kernNr} kernel frames and ${stackLen} stack bytes`);
		const end = off + PROFILE_DEFERRED_HEAD_SIZE + stackLen;
		if (end > buf.byteLength) throw new Error(`deferred sample record claims ${stackLen} stack bytes past the batch end`);
		const kernelIps: bigint[] = new Array(kernNr);
		for (let i = 0; i < kernNr; i++) kernelIps[i] = view.getBigUint64(off + 72 + i * 8, true);
		const sample: DeferredSample = {
			pid: view.getUint32(off + 32, true),
			comm: cString(new Uint8Array(buf, off + 56, PROFILE_COMM_LEN)),
			kernelIps,
			record: new Uint8Array(buf.slice(off, end)),
		};
		const request = view.getUint32(off + 36, true);
		if (request !== 0) {
			sample.requestId = request & ~REQUEST_AMBIGUOUS;
			if (request & REQUEST_AMBIGUOUS) sample.requestAmbiguous = true;
		}
		out.push(sample);
		off = end;
	}
	return out;
}
