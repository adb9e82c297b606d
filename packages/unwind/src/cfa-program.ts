import { ByteReader } from './byte-reader.ts';
import type { Cie, Fde } from './cfi-entries.ts';
import { readEncoded, type PointerBases } from './pointer-encoding.ts';
import { CfaKind, RaKind, SavedKind, type UnwindRule } from './unwind-rule.ts';
import { UnwindError } from './unwind-error.ts';

/** DWARF register numbers on x86-64 (System V psABI, figure 3.36). */
export const REG_RBP = 6;
export const REG_RSP = 7;
export const REG_R11 = 11;
export const REG_RAX = 0;
export const REG_RBX = 3;
export const REG_RIP = 16;

/** Register rules as DWARF states them; reduced to an `UnwindRule` only when a row is emitted. */
const R_UNSET = 0;
const R_UNDEFINED = 1;
const R_SAME = 2;
const R_OFFSET = 3;
const R_OTHER = 4;

/** GCC nests remember_state a level or two; this bound only stops hostile input. */
const MAX_STATE_DEPTH = 64;

interface State {
	cfaReg: number;
	cfaOffset: number;
	cfaExpr: Uint8Array | null;
	rbp: number;
	rbpOffset: number;
	rbx: number;
	rbxOffset: number;
	ra: number;
	raOffset: number;
}

/** The rows of one FDE, in increasing pc order, each applying up to the next (or the FDE's end). */
export interface FdeRows {
	readonly pcs: number[];
	readonly rules: UnwindRule[];
}

const cieStates = new WeakMap<Cie, State | UnwindError>();

/**
 * Runs the CIE's initial instructions and then the FDE's, emitting a row each time the location
 * advances. Throws `UnwindError` for an instruction it cannot decode; the caller then
 * leaves the FDE's range without rows rather than trust half a program.
 */
export function runCfaProgram(fde: Fde, bases: PointerBases): FdeRows {
	const cie = fde.cie;
	let initial = cieStates.get(cie);
	if (initial === undefined) {
		try {
			const s = emptyState();
			execute(cie.initialInstructions, cie.initialInstructionsOffset, cie, bases, s, s, 0, Number.MAX_SAFE_INTEGER, null);
			initial = s;
		} catch (err) {
			if (!(err instanceof UnwindError)) throw err;
			initial = new UnwindError(err.code, `CIE initial instructions: ${err.message}`);
		}
		cieStates.set(cie, initial);
	}
	if (initial instanceof UnwindError) throw initial;
	const rows: FdeRows = { pcs: [], rules: [] };
	const state = { ...initial };
	execute(fde.instructions, fde.instructionsOffset, cie, bases, state, initial, fde.pcBegin, fde.pcEnd, rows);
	return rows;
}

function emptyState(): State {
	return { cfaReg: REG_RSP, cfaOffset: 0, cfaExpr: null, rbp: R_UNSET, rbpOffset: 0, rbx: R_UNSET, rbxOffset: 0, ra: R_UNSET, raOffset: 0 };
}

function execute(
	code: Uint8Array,
	codeOffset: number,
	cie: Cie,
	bases: PointerBases,
	s: State,
	initial: State,
	pcBegin: number,
	pcEnd: number,
	rows: FdeRows | null,
): void {
	new CfaMachine(cie, s, initial, pcBegin, pcEnd, rows).run(new ByteReader(code, 0, code.length), codeOffset, bases);
}

/** One run of a CFA program. A class rather than closures: this runs once per FDE, ~100k times for node. */
class CfaMachine {
	private loc: number;
	private last: UnwindRule | null = null;
	private dirty = true;
	private readonly ra: number;

	constructor(
		private readonly cie: Cie,
		private readonly s: State,
		private readonly initial: State,
		pcBegin: number,
		private readonly pcEnd: number,
		private readonly rows: FdeRows | null,
	) {
		this.loc = pcBegin;
		this.ra = cie.raRegister;
	}

	private advance(to: number): void {
		const loc = this.loc;
		if (to < loc) throw new UnwindError('malformed', 'DW_CFA_set_loc moves backwards');
		if (this.rows !== null && to > loc && loc < this.pcEnd) {
			if (this.dirty || this.last === null) {
				this.last = toRule(this.s, this.cie);
				this.dirty = false;
			}
			this.rows.pcs.push(loc);
			this.rows.rules.push(this.last);
		}
		this.loc = to;
	}

	private setReg(reg: number, kind: number, off: number): void {
		if (reg === REG_RBP) {
			this.s.rbp = kind;
			this.s.rbpOffset = off;
			this.dirty = true;
		}
		if (reg === REG_RBX) {
			this.s.rbx = kind;
			this.s.rbxOffset = off;
			this.dirty = true;
		}
		if (reg === this.ra) {
			this.s.ra = kind;
			this.s.raOffset = off;
			this.dirty = true;
		}
	}

	private restoreReg(reg: number): void {
		if (reg === REG_RBP) this.setReg(reg, this.initial.rbp, this.initial.rbpOffset);
		if (reg === REG_RBX) this.setReg(reg, this.initial.rbx, this.initial.rbxOffset);
		if (reg === this.ra) this.setReg(reg, this.initial.ra, this.initial.raOffset);
	}

	run(r: ByteReader, codeOffset: number, bases: PointerBases): void {
		const s = this.s;
		const cie = this.cie;
		const ca = cie.codeAlign;
		const da = cie.dataAlign;
		const stack: State[] = [];
		while (r.remaining > 0) {
			const op = r.u8();
			const hi = op & 0xc0;
			const lo = op & 0x3f;
			if (hi === 0x40) {
				// DW_CFA_advance_loc
				this.advance(this.loc + lo * ca);
				continue;
			}
			if (hi === 0x80) {
				// DW_CFA_offset
				this.setReg(lo, R_OFFSET, r.uleb() * da);
				continue;
			}
			if (hi === 0xc0) {
				// DW_CFA_restore
				this.restoreReg(lo);
				continue;
			}
			switch (op) {
				case 0x00: // DW_CFA_nop
					break;
				case 0x01: {
					// DW_CFA_set_loc
					const at = { ...bases, section: bases.section + codeOffset };
					this.advance(readEncoded(r, cie.fdeEncoding, at, true).value);
					break;
				}
				case 0x02: // DW_CFA_advance_loc1
					this.advance(this.loc + r.u8() * ca);
					break;
				case 0x03: // DW_CFA_advance_loc2
					this.advance(this.loc + r.u16() * ca);
					break;
				case 0x04: // DW_CFA_advance_loc4
					this.advance(this.loc + r.u32() * ca);
					break;
				case 0x05: // DW_CFA_offset_extended
					this.setReg(r.uleb(), R_OFFSET, r.uleb() * da);
					break;
				case 0x06: // DW_CFA_restore_extended
					this.restoreReg(r.uleb());
					break;
				case 0x07: // DW_CFA_undefined
					this.setReg(r.uleb(), R_UNDEFINED, 0);
					break;
				case 0x08: // DW_CFA_same_value
					this.setReg(r.uleb(), R_SAME, 0);
					break;
				case 0x09: // DW_CFA_register
					this.setReg(r.uleb(), R_OTHER, r.uleb());
					break;
				case 0x0a: // DW_CFA_remember_state: the CFA is saved too, as GCC and binutils do
					if (stack.length >= MAX_STATE_DEPTH) throw new UnwindError('too-large', `remember_state nested over ${MAX_STATE_DEPTH} deep`);
					stack.push({ ...s });
					break;
				case 0x0b: {
					// DW_CFA_restore_state
					const saved = stack.pop();
					if (saved === undefined) throw new UnwindError('malformed', 'DW_CFA_restore_state without remember_state');
					Object.assign(s, saved);
					this.dirty = true;
					break;
				}
				case 0x0c: // DW_CFA_def_cfa
					s.cfaReg = r.uleb();
					s.cfaOffset = r.uleb();
					s.cfaExpr = null;
					this.dirty = true;
					break;
				case 0x0d: // DW_CFA_def_cfa_register
					s.cfaReg = r.uleb();
					s.cfaExpr = null;
					this.dirty = true;
					break;
				case 0x0e: // DW_CFA_def_cfa_offset
					s.cfaOffset = r.uleb();
					this.dirty = true;
					break;
				case 0x0f: // DW_CFA_def_cfa_expression
					s.cfaExpr = r.bytes(r.uleb());
					this.dirty = true;
					break;
				case 0x10: {
					// DW_CFA_expression
					const reg = r.uleb();
					r.skip(r.uleb());
					this.setReg(reg, R_OTHER, 0);
					break;
				}
				case 0x11: // DW_CFA_offset_extended_sf
					this.setReg(r.uleb(), R_OFFSET, r.sleb() * da);
					break;
				case 0x12: // DW_CFA_def_cfa_sf
					s.cfaReg = r.uleb();
					s.cfaOffset = r.sleb() * da;
					s.cfaExpr = null;
					this.dirty = true;
					break;
				case 0x13: // DW_CFA_def_cfa_offset_sf
					s.cfaOffset = r.sleb() * da;
					this.dirty = true;
					break;
				case 0x14: // DW_CFA_val_offset
					this.setReg(r.uleb(), R_OTHER, r.uleb());
					break;
				case 0x15: // DW_CFA_val_offset_sf
					this.setReg(r.uleb(), R_OTHER, r.sleb());
					break;
				case 0x16: {
					// DW_CFA_val_expression
					const reg = r.uleb();
					r.skip(r.uleb());
					this.setReg(reg, R_OTHER, 0);
					break;
				}
				case 0x2e: // DW_CFA_GNU_args_size: only matters to exception handling
					r.uleb();
					break;
				case 0x2f: // DW_CFA_GNU_negative_offset_extended
					this.setReg(r.uleb(), R_OFFSET, -r.uleb() * da);
					break;
				default:
					throw new UnwindError('malformed', `unknown CFA instruction 0x${op.toString(16)}`);
			}
		}
		this.advance(Math.max(this.loc, this.pcEnd));
	}
}

/** Reduces the DWARF state to what a BPF walker can evaluate. */
function toRule(s: State, cie: Cie): UnwindRule {
	let cfa: CfaKind = CfaKind.unsupported;
	let cfaOffset = 0;
	let pltThreshold = 0;
	if (s.cfaExpr !== null) {
		const plt = matchPltExpression(s.cfaExpr);
		const saved = matchSavedRspExpression(s.cfaExpr);
		if (plt !== undefined) {
			cfa = CfaKind.plt;
			cfaOffset = plt.offset;
			pltThreshold = plt.threshold;
		} else if (saved !== undefined) {
			cfa = CfaKind.rspDeref;
			cfaOffset = saved;
		}
	} else if (CFA_REGISTERS.has(s.cfaReg) && fitsI32(s.cfaOffset)) {
		cfa = CFA_REGISTERS.get(s.cfaReg)!;
		cfaOffset = s.cfaOffset;
	}
	const [rbp, rbpOffset] = savedRule(s.rbp, s.rbpOffset);
	const [rbx, rbxOffset] = savedRule(s.rbx, s.rbxOffset);
	let ra: RaKind = RaKind.unsupported;
	let raOffset = 0;
	if (s.ra === R_UNDEFINED) ra = RaKind.undefined;
	else if (s.ra === R_OFFSET && fitsI16(s.raOffset)) {
		ra = RaKind.offset;
		raOffset = s.raOffset;
	}
	return { cfa, cfaOffset, rbp, rbpOffset, rbx, rbxOffset, ra, raOffset, signalFrame: cie.signalFrame, pltThreshold };
}

/** The registers a CFA may be based on, as the walker knows them. */
const CFA_REGISTERS = new Map<number, CfaKind>([
	[REG_RSP, CfaKind.rsp],
	[REG_RBP, CfaKind.rbp],
	[REG_R11, CfaKind.r11],
	[REG_RAX, CfaKind.rax],
	[REG_RBX, CfaKind.rbx],
]);

/** A callee-saved register's DWARF rule as the walker takes it, with its offset from the CFA. */
function savedRule(kind: number, offset: number): [SavedKind, number] {
	if (kind === R_UNSET || kind === R_SAME) return [SavedKind.unchanged, 0];
	if (kind === R_UNDEFINED) return [SavedKind.undefined, 0];
	if (kind === R_OFFSET && fitsI16(offset)) return [SavedKind.offset, offset];
	return [SavedKind.unsupported, 0];
}

/**
 * The expression binutils' ld writes for the lazy-binding PLT (elf_x86_64_eh_frame_plt and its
 * IBT variants): DW_OP_breg7 (rsp) K; DW_OP_breg16 (rip) 0; DW_OP_lit15; DW_OP_and; DW_OP_litN;
 * DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus. That is rsp + K, plus 8 once the entry has pushed
 * its relocation index (rip & 15 >= N).
 */
export function matchPltExpression(e: Uint8Array): { offset: number; threshold: number } | undefined {
	if (e.length < 11 || e[0] !== 0x77) return undefined;
	// K is a one-byte SLEB128 in every PLT we know (8).
	const k = e[1]!;
	if ((k & 0x80) !== 0) return undefined;
	const offset = (k & 0x40) !== 0 ? k - 0x80 : k;
	const tail = [0x80, 0x00, 0x3f, 0x1a, -1, 0x2a, 0x33, 0x24, 0x22];
	if (e.length !== 2 + tail.length) return undefined;
	for (let i = 0; i < tail.length; i++) {
		const want = tail[i]!;
		const got = e[2 + i]!;
		if (want === -1) {
			if (got < 0x30 || got > 0x3f) return undefined;
		} else if (got !== want) return undefined;
	}
	return { offset, threshold: e[6]! - 0x30 };
}

/**
 * The expression OpenSSL's perlasm writes where it saved the entry rsp on a realigned stack
 * (`.cfi_cfa_expression %rsp+N,deref,+8`): DW_OP_breg7 (rsp) N; DW_OP_deref; DW_OP_plus_uconst 8.
 * Returns N.
 */
export function matchSavedRspExpression(e: Uint8Array): number | undefined {
	const tail = [0x06, 0x23, 0x08];
	// N's SLEB128 (one to five bytes: an i32) ends where the tail begins.
	const end = e.length - tail.length;
	if (e[0] !== 0x77 || end < 2 || end > 6 || (e[end - 1]! & 0x80) !== 0) return undefined;
	const r = new ByteReader(e, 1, end);
	const n = r.sleb();
	if (r.remaining !== 0 || tail.some((b, i) => e[e.length - tail.length + i] !== b) || !fitsI32(n)) return undefined;
	return n;
}

function fitsI32(n: number): boolean {
	return n >= -0x8000_0000 && n <= 0x7fff_ffff;
}

function fitsI16(n: number): boolean {
	return n >= -0x8000 && n <= 0x7fff;
}
