import { ByteReader } from './byte-reader.ts';
import {
	DW_EH_PE_absptr,
	DW_EH_PE_omit,
	DW_EH_PE_udata4,
	DW_EH_PE_udata8,
	isValidEncoding,
	readEncoded,
	type PointerBases,
} from './pointer-encoding.ts';
import { UnwindError } from './unwind-error.ts';

/** Which section the bytes came from: they differ in the CIE id and in what a CIE pointer means. */
export type CfiSectionKind = 'eh_frame' | 'debug_frame';

/** A Common Information Entry: what its FDEs share. */
export interface Cie {
	/** Offset of the entry in its section. */
	readonly offset: number;
	readonly version: number;
	readonly augmentation: string;
	readonly codeAlign: number;
	readonly dataAlign: number;
	readonly raRegister: number;
	/** How FDE addresses are encoded (DW_EH_PE_*). */
	readonly fdeEncoding: number;
	readonly lsdaEncoding: number;
	/** 'S': the frames are signal trampolines; the return address is not after a call. */
	readonly signalFrame: boolean;
	/** 'z': every FDE carries an augmentation data block to skip. */
	readonly hasAugmentationData: boolean;
	readonly initialInstructions: Uint8Array;
	/** Section offset of `initialInstructions` (the base of a pc-relative DW_CFA_set_loc). */
	readonly initialInstructionsOffset: number;
}

/** A Frame Description Entry: one address range and its CFA program. */
export interface Fde {
	readonly offset: number;
	readonly cie: Cie;
	readonly pcBegin: number;
	/** Exclusive. */
	readonly pcEnd: number;
	readonly instructions: Uint8Array;
	/** Section offset of `instructions`. */
	readonly instructionsOffset: number;
}

/** An entry we could not use: where it is and why. */
export interface CfiProblem {
	readonly offset: number;
	readonly error: UnwindError;
}

export interface CfiEntries {
	readonly fdes: Fde[];
	readonly cieCount: number;
	/** Entries skipped; counted in full, listed up to `MAX_LISTED_PROBLEMS`. */
	readonly problemCount: number;
	readonly problems: CfiProblem[];
	/** The walk stopped before the end of the section (a length we could not trust). */
	readonly stoppedAt: number | undefined;
}

export const MAX_LISTED_PROBLEMS = 16;
const MAX_AUGMENTATION = 64;

/**
 * Walks every CIE and FDE of an .eh_frame or .debug_frame section. An entry that cannot be read is
 * skipped and reported in `problems`; an entry whose length cannot be trusted ends the walk, since
 * the next entry's position is unknown. Bad input never throws: a section of garbage yields no
 * FDEs and its problems.
 */
export function readCfiEntries(bytes: Uint8Array, kind: CfiSectionKind, bases: PointerBases): CfiEntries {
	const fdes: Fde[] = [];
	const problems: CfiProblem[] = [];
	let problemCount = 0;
	const cies = new Map<number, Cie | UnwindError>();
	let stoppedAt: number | undefined;
	const note = (offset: number, err: unknown) => {
		problemCount++;
		if (problems.length < MAX_LISTED_PROBLEMS) problems.push({ offset, error: asUnwindError(err) });
	};

	const cieAt = (offset: number): Cie => {
		let c = cies.get(offset);
		if (c === undefined) {
			try {
				c = readCie(bytes, offset, kind, bases);
			} catch (err) {
				c = asUnwindError(err);
			}
			cies.set(offset, c);
		}
		if (c instanceof UnwindError) throw new UnwindError(c.code, `CIE at 0x${offset.toString(16)}: ${c.message}`);
		return c;
	};

	let pos = 0;
	while (pos < bytes.length) {
		let head: EntryHead;
		try {
			head = readEntryHead(bytes, pos, kind);
		} catch (err) {
			note(pos, err);
			stoppedAt = pos;
			break;
		}
		if (head.terminator) {
			pos = head.end;
			continue;
		}
		if (!head.isCie) {
			try {
				const ciePos = kind === 'eh_frame' ? head.idPos - head.id : head.id;
				if (ciePos < 0 || ciePos >= bytes.length)
					throw new UnwindError('malformed', `CIE pointer 0x${head.id.toString(16)} outside the section`);
				const fde = readFde(bytes, head, cieAt(ciePos), bases);
				if (fde !== undefined) fdes.push(fde);
			} catch (err) {
				note(pos, err);
			}
		} else {
			try {
				cieAt(pos);
			} catch (err) {
				note(pos, err);
			}
		}
		pos = head.end;
	}
	let cieCount = 0;
	for (const c of cies.values()) if (!(c instanceof UnwindError)) cieCount++;
	return { fdes, cieCount, problemCount, problems, stoppedAt };
}

interface EntryHead {
	readonly start: number;
	/** Exclusive end of the entry. */
	readonly end: number;
	readonly terminator: boolean;
	readonly isCie: boolean;
	/** Position of the CIE id / CIE pointer field. */
	readonly idPos: number;
	readonly id: number;
	/** Position after the id field. */
	readonly bodyPos: number;
	readonly offsetSize: 4 | 8;
}

function readEntryHead(bytes: Uint8Array, start: number, kind: CfiSectionKind): EntryHead {
	const r = new ByteReader(bytes, start, bytes.length);
	let length = r.u32();
	let offsetSize: 4 | 8 = 4;
	if (length === 0) return { start, end: r.pos, terminator: true, isCie: false, idPos: r.pos, id: 0, bodyPos: r.pos, offsetSize };
	if (length === 0xffffffff) {
		length = r.u64();
		offsetSize = 8;
	} else if (length >= 0xfffffff0) {
		throw new UnwindError('malformed', `reserved initial length 0x${length.toString(16)}`);
	}
	if (length > r.remaining) throw new UnwindError('truncated', `entry of ${length} bytes at 0x${start.toString(16)} runs past the end`);
	const end = r.pos + length;
	r.end = end;
	const idPos = r.pos;
	let id: number;
	let isCie: boolean;
	if (offsetSize === 4) {
		id = r.u32();
		isCie = kind === 'eh_frame' ? id === 0 : id === 0xffffffff;
	} else {
		const lo = r.u32();
		const hi = r.u32();
		isCie = kind === 'eh_frame' ? lo === 0 && hi === 0 : lo === 0xffffffff && hi === 0xffffffff;
		// A CIE pointer beyond 2^53 cannot be inside any section we read.
		id = hi >= 0x20_0000 ? Number.MAX_SAFE_INTEGER : hi * 0x1_0000_0000 + lo;
	}
	return { start, end, terminator: false, isCie, idPos, id, bodyPos: r.pos, offsetSize };
}

function readCie(bytes: Uint8Array, offset: number, kind: CfiSectionKind, bases: PointerBases): Cie {
	const head = readEntryHead(bytes, offset, kind);
	if (head.terminator || !head.isCie) throw new UnwindError('malformed', 'CIE pointer does not point at a CIE');
	const r = new ByteReader(bytes, head.bodyPos, head.end);
	const version = r.u8();
	if (version !== 1 && version !== 3 && version !== 4) throw new UnwindError('unsupported', `CIE version ${version}`);
	const augStart = r.pos;
	const augmentation = r.cstring();
	if (r.pos - augStart > MAX_AUGMENTATION) throw new UnwindError('malformed', 'augmentation string too long');
	let addressSize = 8;
	if (version >= 4) {
		addressSize = r.u8();
		const segmentSize = r.u8();
		if (addressSize !== 4 && addressSize !== 8) throw new UnwindError('unsupported', `address size ${addressSize}`);
		if (segmentSize !== 0) throw new UnwindError('unsupported', `segment selector size ${segmentSize}`);
	}
	// GCC before 3.0: a pointer to exception data follows the string.
	if (augmentation === 'eh') r.skip(addressSize);
	const codeAlign = r.uleb();
	const dataAlign = r.sleb();
	const raRegister = version === 1 ? r.u8() : r.uleb();
	let fdeEncoding = kind === 'debug_frame' ? (addressSize === 4 ? DW_EH_PE_udata4 : DW_EH_PE_udata8) : DW_EH_PE_absptr;
	let lsdaEncoding = DW_EH_PE_omit;
	let signalFrame = false;
	const hasAugmentationData = augmentation.startsWith('z');
	if (hasAugmentationData) {
		const len = r.uleb();
		if (len > r.remaining) throw new UnwindError('truncated', 'augmentation data runs past the CIE');
		const a = new ByteReader(bytes, r.pos, r.pos + len);
		for (let i = 1; i < augmentation.length; i++) {
			const c = augmentation[i];
			if (c === 'R') {
				fdeEncoding = a.u8();
				if (fdeEncoding === DW_EH_PE_omit || !isValidEncoding(fdeEncoding))
					throw new UnwindError('malformed', `FDE pointer encoding 0x${fdeEncoding.toString(16)}`);
			} else if (c === 'P') {
				const enc = a.u8();
				// The personality routine's address; we only need to step over it.
				readEncoded(a, enc, bases, false);
			} else if (c === 'L') {
				lsdaEncoding = a.u8();
				if (!isValidEncoding(lsdaEncoding)) throw new UnwindError('malformed', `LSDA encoding 0x${lsdaEncoding.toString(16)}`);
			} else if (c === 'S') {
				signalFrame = true;
			} else if (c === 'B' || c === 'G') {
				// AArch64 BTI / MTE markers: no data.
			} else {
				throw new UnwindError('unsupported', `augmentation "${augmentation}"`);
			}
		}
		r.pos += len;
	} else if (augmentation !== '' && augmentation !== 'eh') {
		throw new UnwindError('unsupported', `augmentation "${augmentation}"`);
	}
	return {
		offset,
		version,
		augmentation,
		codeAlign,
		dataAlign,
		raRegister,
		fdeEncoding,
		lsdaEncoding,
		signalFrame,
		hasAugmentationData,
		initialInstructions: bytes.subarray(r.pos, head.end),
		initialInstructionsOffset: r.pos,
	};
}

/** Returns undefined for an FDE that covers nothing (a discarded function's leftover). */
function readFde(bytes: Uint8Array, head: EntryHead, cie: Cie, bases: PointerBases): Fde | undefined {
	const r = new ByteReader(bytes, head.bodyPos, head.end);
	const pcBegin = readEncoded(r, cie.fdeEncoding, bases, true).value;
	// The range is a length: the format of the encoding without its base.
	const range = readEncoded(r, cie.fdeEncoding & 0x0f, bases, false).value;
	if (cie.hasAugmentationData) r.skip(r.uleb());
	if (range === 0) return undefined;
	const pcEnd = pcBegin + range;
	if (!Number.isSafeInteger(pcEnd)) throw new UnwindError('unsupported', 'FDE range beyond 2^53');
	return { offset: head.start, cie, pcBegin, pcEnd, instructions: bytes.subarray(r.pos, head.end), instructionsOffset: r.pos };
}

function asUnwindError(err: unknown): UnwindError {
	if (err instanceof UnwindError) return err;
	// Anything else is a bug in this reader, not bad input: let it surface.
	throw err;
}
