/**
 * How to find the caller's frame at one address, reduced to what a BPF walker can evaluate:
 * the CFA from rsp or rbp plus an offset (or the PLT pattern), and where the return address and
 * the caller's rbp and rbx are saved relative to the CFA. Anything richer is "unsupported", so the
 * walker counts an early end instead of inventing a caller.
 */
export const CfaKind = {
	/** No FDE covers this address: fall back to frame pointers, or stop. */
	gap: 0,
	/** CFA = rsp + cfaOffset. */
	rsp: 1,
	/** CFA = rbp + cfaOffset. */
	rbp: 2,
	/** The lazy-binding PLT: CFA = rsp + cfaOffset + ((rip & 15) >= pltThreshold ? 8 : 0). */
	plt: 3,
	/** A CFA expression other than these, or a register other than rsp, rbp, r11, rax and rbx. */
	unsupported: 4,
	/**
	 * CFA = r11 + cfaOffset: OpenSSL's assembly (AES-NI, SHA) keeps the entry rsp in r11 while it
	 * realigns the stack. The walker knows r11 where the sample interrupted the code, and in that
	 * frame's caller as the leaf left it.
	 */
	r11: 5,
	/**
	 * CFA = rax + cfaOffset: OpenSSL's AES-GCM and SHA-512 (AVX2) assembly keeps the entry rsp in
	 * rax. Known as r11 is.
	 */
	rax: 6,
	/**
	 * CFA = *(rsp + cfaOffset) + 8: OpenSSL's SHA-2 (AVX2) and AES-CBC-SHA assembly saves its entry
	 * rsp on the stack it realigned (DW_OP_breg7 N; DW_OP_deref; DW_OP_plus_uconst 8).
	 */
	rspDeref: 7,
	/**
	 * CFA = rbx + cfaOffset: ld.so's lazy-binding resolver (_dl_runtime_resolve_*) keeps its entry
	 * rsp in rbx while it calls _dl_fixup. The walker knows rbx where the sample interrupted the
	 * code, and in each caller from the rules that say where its callees saved it (rbx is
	 * callee-saved: one no rule names is the caller's, DWARF's "same value").
	 */
	rbx: 8,
	/**
	 * CFA = rbp + cfaOffset in a function that has switched stacks (Go's systemstack, mcall,
	 * morestack: go-rows.ts), so the caller's frame may lie anywhere, below this one too: the
	 * walker takes it where it would otherwise stop for a CFA that does not move up the stack.
	 */
	switchedRbp: 9,
} as const;
export type CfaKind = (typeof CfaKind)[keyof typeof CfaKind];

/** Where the caller's value of a callee-saved register the walker follows (rbp, rbx) is. */
export const SavedKind = {
	/** The caller's value is the current one (not saved, or DW_CFA_same_value). */
	unchanged: 0,
	/** Saved at CFA + the rule's offset for the register. */
	offset: 1,
	/** DW_CFA_undefined: the caller's value is lost. */
	undefined: 2,
	/** In another register, or computed by an expression. */
	unsupported: 3,
} as const;
export type SavedKind = (typeof SavedKind)[keyof typeof SavedKind];

export const RaKind = {
	/** Saved at CFA + raOffset. */
	offset: 0,
	/** DW_CFA_undefined: the outermost frame (_start, thread start). */
	undefined: 1,
	/** In another register, or computed by an expression. */
	unsupported: 2,
} as const;
export type RaKind = (typeof RaKind)[keyof typeof RaKind];

export interface UnwindRule {
	readonly cfa: CfaKind;
	readonly cfaOffset: number;
	readonly rbp: SavedKind;
	readonly rbpOffset: number;
	readonly rbx: SavedKind;
	readonly rbxOffset: number;
	readonly ra: RaKind;
	readonly raOffset: number;
	/** The CIE has augmentation 'S': a signal trampoline. */
	readonly signalFrame: boolean;
	/** For `CfaKind.plt`: the low four bits of rip from which the extra 8 bytes apply; else 0. */
	readonly pltThreshold: number;
}

export const GAP_RULE: UnwindRule = {
	cfa: CfaKind.gap,
	cfaOffset: 0,
	rbp: SavedKind.unchanged,
	rbpOffset: 0,
	rbx: SavedKind.unchanged,
	rbxOffset: 0,
	ra: RaKind.unsupported,
	raOffset: 0,
	signalFrame: false,
	pltThreshold: 0,
};

export function sameRule(a: UnwindRule, b: UnwindRule): boolean {
	return (
		a.cfa === b.cfa &&
		a.cfaOffset === b.cfaOffset &&
		a.rbp === b.rbp &&
		a.rbpOffset === b.rbpOffset &&
		a.rbx === b.rbx &&
		a.rbxOffset === b.rbxOffset &&
		a.ra === b.ra &&
		a.raOffset === b.raOffset &&
		a.signalFrame === b.signalFrame &&
		a.pltThreshold === b.pltThreshold
	);
}

/** Readable form for test failures and debugging: `rsp+16 rbp=c-16 ra=c-8` (rbx only when saved or lost). */
export function formatRule(r: UnwindRule): string {
	const cfa = {
		[CfaKind.gap]: 'gap',
		[CfaKind.rsp]: `rsp${signed(r.cfaOffset)}`,
		[CfaKind.rbp]: `rbp${signed(r.cfaOffset)}`,
		[CfaKind.plt]: `plt(rsp${signed(r.cfaOffset)},${r.pltThreshold})`,
		[CfaKind.unsupported]: 'unsupported',
		[CfaKind.r11]: `r11${signed(r.cfaOffset)}`,
		[CfaKind.rax]: `rax${signed(r.cfaOffset)}`,
		[CfaKind.rspDeref]: `*(rsp${signed(r.cfaOffset)})+8`,
		[CfaKind.rbx]: `rbx${signed(r.cfaOffset)}`,
		[CfaKind.switchedRbp]: `switched(rbp${signed(r.cfaOffset)})`,
	}[r.cfa];
	if (r.cfa === CfaKind.gap) return cfa;
	const ra = r.ra === RaKind.offset ? `c${signed(r.raOffset)}` : r.ra === RaKind.undefined ? 'u' : 'unsupported';
	const rbx = r.rbx === SavedKind.unchanged ? '' : ` rbx=${saved(r.rbx, r.rbxOffset)}`;
	return `${cfa} rbp=${saved(r.rbp, r.rbpOffset)}${rbx} ra=${ra}${r.signalFrame ? ' signal' : ''}`;
}

function saved(kind: SavedKind, offset: number): string {
	return kind === SavedKind.unchanged
		? 'same'
		: kind === SavedKind.offset
			? `c${signed(offset)}`
			: kind === SavedKind.undefined
				? 'u'
				: 'unsupported';
}

function signed(n: number): string {
	return n < 0 ? `${n}` : `+${n}`;
}
