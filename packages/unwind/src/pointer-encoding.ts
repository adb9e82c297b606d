import type { ByteReader } from './byte-reader.ts';
import { UnwindError } from './unwind-error.ts';

/** DW_EH_PE_* (LSB, "Exception Frame Header Encoding"): low nibble is the format, bits 4-6 the base. */
export const DW_EH_PE_absptr = 0x00;
export const DW_EH_PE_uleb128 = 0x01;
export const DW_EH_PE_udata2 = 0x02;
export const DW_EH_PE_udata4 = 0x03;
export const DW_EH_PE_udata8 = 0x04;
export const DW_EH_PE_sleb128 = 0x09;
export const DW_EH_PE_sdata2 = 0x0a;
export const DW_EH_PE_sdata4 = 0x0b;
export const DW_EH_PE_sdata8 = 0x0c;
export const DW_EH_PE_pcrel = 0x10;
export const DW_EH_PE_textrel = 0x20;
export const DW_EH_PE_datarel = 0x30;
export const DW_EH_PE_funcrel = 0x40;
export const DW_EH_PE_aligned = 0x50;
export const DW_EH_PE_indirect = 0x80;
export const DW_EH_PE_omit = 0xff;

/** Where the relative encodings are relative to, as virtual addresses of the file. */
export interface PointerBases {
	/** Virtual address of byte 0 of the section being read (pcrel). */
	readonly section: number;
	/** Start of .text (textrel). */
	readonly text: number;
	/** Start of .got, the LSB's base for datarel outside .eh_frame_hdr. */
	readonly data: number;
	/**
	 * Reads the 8-byte pointer stored at a virtual address of the file (indirect); undefined when
	 * the address has no file bytes behind it.
	 */
	readonly load?: (vaddr: number) => number | undefined;
}

/** An encoded pointer's value and whether it was a pointer to the value (indirect, not followed). */
export interface EncodedPointer {
	readonly value: number;
	readonly indirect: boolean;
}

/** True when `enc` is an encoding we can decode (the value of `DW_EH_PE_omit` is handled by callers). */
export function isValidEncoding(enc: number): boolean {
	if (enc === DW_EH_PE_omit) return true;
	const fmt = enc & 0x0f;
	const app = enc & 0x70;
	const fmtOk = fmt <= 0x04 || (fmt >= 0x09 && fmt <= 0x0c);
	return fmtOk && app <= DW_EH_PE_aligned;
}

/**
 * Reads one pointer in encoding `enc`. `funcStart` is the base for funcrel (only meaningful in an
 * LSDA; 0 elsewhere). With `follow`, an indirect pointer is dereferenced through `bases.load`;
 * without, its address is returned and `indirect` is set (personality routines: we never need
 * their value, only to skip them).
 */
export function readEncoded(r: ByteReader, enc: number, bases: PointerBases, follow: boolean, funcStart = 0): EncodedPointer {
	if (!isValidEncoding(enc) || enc === DW_EH_PE_omit) throw new UnwindError('malformed', `pointer encoding 0x${enc.toString(16)}`);
	const app = enc & 0x70;
	if (app === DW_EH_PE_aligned) {
		// The value sits at the next 8-byte boundary of the section's addresses, as a native pointer.
		const addr = bases.section + r.pos;
		const pad = (8 - (addr % 8)) % 8;
		r.skip(pad);
	}
	const at = bases.section + r.pos;
	let v: number;
	switch (enc & 0x0f) {
		case DW_EH_PE_absptr:
			v = r.u64();
			break;
		case DW_EH_PE_uleb128:
			v = r.uleb();
			break;
		case DW_EH_PE_udata2:
			v = r.u16();
			break;
		case DW_EH_PE_udata4:
			v = r.u32();
			break;
		case DW_EH_PE_udata8:
			v = r.u64();
			break;
		case DW_EH_PE_sleb128:
			v = r.sleb();
			break;
		case DW_EH_PE_sdata2:
			v = r.i16();
			break;
		case DW_EH_PE_sdata4:
			v = r.i32();
			break;
		default:
			v = r.i64();
			break;
	}
	switch (app) {
		case DW_EH_PE_pcrel:
			v += at;
			break;
		case DW_EH_PE_textrel:
			v += bases.text;
			break;
		case DW_EH_PE_datarel:
			v += bases.data;
			break;
		case DW_EH_PE_funcrel:
			v += funcStart;
			break;
	}
	if (v < 0 || !Number.isSafeInteger(v)) throw new UnwindError('unsupported', `pointer 0x${v.toString(16)} outside 0..2^53`);
	const indirect = (enc & DW_EH_PE_indirect) !== 0;
	if (indirect && follow) {
		const target = bases.load?.(v);
		if (target === undefined) throw new UnwindError('unsupported', `indirect pointer through 0x${v.toString(16)} has no file bytes`);
		return { value: target, indirect: false };
	}
	return { value: v, indirect };
}
