import { GoFuncFlag, GoPclntabError, type GoPclntab } from '@firesight/symbolize';
import type { FunctionRows } from './build-table.ts';
import type { FdeRows } from './cfa-program.ts';
import { UnwindError } from './unwind-error.ts';
import { CfaKind, RaKind, SavedKind, type UnwindRule } from './unwind-rule.ts';

/*
 * Rows for Go's functions from its function table (.gopclntab), which a stripped binary keeps
 * where it has no .debug_frame, and which says more than Go's .debug_frame does:
 *
 * - The CFA is rsp + the pcsp delta + 8, as Go's .debug_frame has it (the linker writes that
 *   from the same table).
 * - rbp: Go keeps frame pointers on x86-64, saved just below the return address in every
 *   function with a frame. .debug_frame does not say so, and the walker needs the caller's rbp
 *   where a function has switched stacks (below).
 * - Functions that switch stacks (funcFlag SPWRITE: systemstack, mcall, morestack, asmcgocall,
 *   and the vDSO callers nanotime1 and time.now) call on the thread's g0 stack, where the CFA by
 *   rsp means nothing. Their caller is found by frame pointers instead: rbp is the caller's
 *   frame there, or (newer Go, as esbuild's) their own pushed on the goroutine's stack, which
 *   may lie anywhere, below the g0 stack too (CfaKind.switchedRbp).
 * - The outermost frames (funcFlag TOPFRAME: goexit, mstart, rt0_go, sigtramp) have no caller,
 *   as Go's own tracebacks end there.
 */

const RA_AT_CFA = -8;
/** Where a Go frame saves the caller's rbp: below the return address. */
const RBP_AT_CFA = -16;

function rule(cfa: CfaKind, cfaOffset: number, rbp: SavedKind, ra: RaKind): UnwindRule {
	return {
		cfa,
		cfaOffset,
		rbp,
		rbpOffset: rbp === SavedKind.offset ? RBP_AT_CFA : 0,
		// Go keeps no register for its callers but rbp: the one a frame above has is lost.
		rbx: SavedKind.undefined,
		rbxOffset: 0,
		ra,
		raOffset: ra === RaKind.offset ? RA_AT_CFA : 0,
		signalFrame: false,
		pltThreshold: 0,
	};
}

/** What `read` returns, a malformed table throwing UnwindError, as everything here does. */
export function readGo<T>(read: () => T): T {
	try {
		return read();
	} catch (err) {
		if (err instanceof GoPclntabError) throw new UnwindError('malformed', `.gopclntab: ${err.message}`);
		throw err;
	}
}

const SWITCHED = rule(CfaKind.switchedRbp, 16, SavedKind.offset, RaKind.offset);

/** Every Go function with a pcsp table, as row ranges for `buildTable`. */
export function goFunctionRows(tab: GoPclntab): FunctionRows[] {
	return tab.funcs
		.filter((fn) => fn.pcsp !== 0 && fn.end > fn.entry)
		.map((fn) => ({
			pcBegin: fn.entry,
			pcEnd: fn.end,
			offset: fn.entry,
			rows: (): FdeRows => {
				if ((fn.flag & GoFuncFlag.topFrame) !== 0)
					return { pcs: [fn.entry], rules: [rule(CfaKind.rsp, 8, SavedKind.unchanged, RaKind.undefined)] };
				if ((fn.flag & GoFuncFlag.spWrite) !== 0) return { pcs: [fn.entry], rules: [SWITCHED] };
				const { pcs: at, values } = readGo(() => tab.spDeltas(fn));
				const pcs: number[] = [];
				const rules: UnwindRule[] = [];
				let framed = false;
				for (let i = 0; i < at.length; i++) {
					const v = values[i]!;
					const next = i + 1 < at.length ? at[i + 1]! : fn.end;
					if (v > 0 && !framed && at[i]! + 1 < next) {
						// The prologue's first instruction with the stack grown saves rbp (or the push
						// that grew it did): the slot holds it from the next byte on.
						framed = true;
						pcs.push(at[i]!);
						rules.push(rule(CfaKind.rsp, v + 8, SavedKind.unchanged, RaKind.offset));
						pcs.push(at[i]! + 1);
					} else {
						pcs.push(at[i]!);
					}
					rules.push(rule(CfaKind.rsp, v + 8, v > 0 ? SavedKind.offset : SavedKind.unchanged, RaKind.offset));
				}
				return { pcs, rules };
			},
		}));
}
