import type { Cie, CfiEntries, Fde } from './cfi-entries.ts';

/**
 * The unwind info glibc's crti.o and crtn.o leave out: the `.init` and `.fini` sections they
 * frame (`_init`, `_fini`) have no FDE, and keep no frame pointer. Other objects add calls into
 * `.init` between the two halves (OpenSSL's `OPENSSL_cpuid_setup`, in node and libcrypto), so a
 * sample in such a call at a program's start finds a return address in `_init`, and the walk
 * could not go on: by frame pointers, rbp there is whatever the dynamic loader or libc left,
 * most often no frame (unwindFramePointerLost). The two halves are fixed code (glibc's
 * sysdeps/x86_64/crti.S and crtn.S): an optional `endbr64`, `sub $8,%rsp`, the calls, then
 * `add $8,%rsp; ret`. Where a section starts and ends with exactly those bytes, this is its FDE:
 * CFA rsp+8 at the entry, rsp+16 from the `sub` to the `add`, rsp+8 at the `ret`; the return
 * address at CFA-8, rbp untouched. Calls push and pop nothing that outlives them, so the rule
 * holds at every return address between.
 */

const ENDBR64 = [0xf3, 0x0f, 0x1e, 0xfa];
const SUB_8_RSP = [0x48, 0x83, 0xec, 0x08];
const ADD_8_RSP_RET = [0x48, 0x83, 0xc4, 0x08, 0xc3];

/** The sections crti.S and crtn.S frame. */
export const CRT_SECTIONS = ['.init', '.fini'] as const;

const DW_CFA_def_cfa = 0x0c;
const DW_CFA_def_cfa_offset = 0x0e;
const DW_CFA_advance_loc2 = 0x03;
const DW_CFA_offset_ra = 0x80 | 16;
const REG_RSP = 7;

/** What every FDE here shares: CFA rsp+8, the return address at CFA-8 (x86-64's entry state). */
const CIE: Cie = {
	offset: -1,
	version: 1,
	augmentation: '',
	codeAlign: 1,
	dataAlign: -8,
	raRegister: 16,
	fdeEncoding: 0,
	lsdaEncoding: 0,
	signalFrame: false,
	hasAugmentationData: false,
	initialInstructions: new Uint8Array([DW_CFA_def_cfa, REG_RSP, 8, DW_CFA_offset_ra, 1]),
	initialInstructionsOffset: -1,
};

function startsWith(code: Uint8Array, at: number, bytes: readonly number[]): boolean {
	if (at < 0 || at + bytes.length > code.length) return false;
	return bytes.every((b, i) => code[at + i] === b);
}

/**
 * The FDE of one `.init` or `.fini` section at file virtual address `addr`, from its bytes, or
 * undefined when it is not crti's and crtn's shape (another toolchain's: then nothing is assumed).
 */
export function crtSectionFde(code: Uint8Array, addr: number): Fde | undefined {
	const sub = startsWith(code, 0, ENDBR64) ? ENDBR64.length : 0;
	if (!startsWith(code, sub, SUB_8_RSP)) return undefined;
	const framed = sub + SUB_8_RSP.length;
	const add = code.length - ADD_8_RSP_RET.length;
	if (add < framed || !startsWith(code, add, ADD_8_RSP_RET)) return undefined;
	const ret = add + 4;
	if (ret - framed > 0xffff) return undefined;
	const instructions = new Uint8Array([
		DW_CFA_advance_loc2,
		framed & 0xff,
		framed >> 8,
		DW_CFA_def_cfa_offset,
		16,
		DW_CFA_advance_loc2,
		(ret - framed) & 0xff,
		(ret - framed) >> 8,
		DW_CFA_def_cfa_offset,
		8,
	]);
	return { offset: -1, cie: CIE, pcBegin: addr, pcEnd: addr + code.length, instructions, instructionsOffset: -1 };
}

/** The FDEs of the sections given, as entries of a source of their own. */
export function crtSectionEntries(sections: readonly { code: Uint8Array; addr: number }[]): CfiEntries {
	const fdes: Fde[] = [];
	for (const { code, addr } of sections) {
		const fde = crtSectionFde(code, addr);
		if (fde !== undefined) fdes.push(fde);
	}
	return { fdes, cieCount: 0, problemCount: 0, problems: [], stoppedAt: undefined };
}
