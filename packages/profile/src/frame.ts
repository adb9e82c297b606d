/**
 * One stack frame as the profile model stores it. Symbolizers produce these; the model interns
 * them so a frame shared by many stacks is stored once.
 */
export type FrameKind = 'user' | 'kernel' | 'jit';

export interface Frame {
	/** Function name, demangled; or `module+0xoffset` when no symbol covers the address. */
	readonly name: string;
	/** Basename of the ELF file or `[kernel.kallsyms]` / `[jit]`; empty when unknown. */
	readonly module: string;
	readonly kind: FrameKind;
	/**
	 * Source file and line, when the profile came with them: for an imported pprof the line the
	 * frame was at (each of a location's lines, inlined ones included: a call site, or where the
	 * leaf ran), for a .cpuprofile the function's first line. Part of a frame's identity: equal
	 * names in two files, or at two lines, stay apart (topFunctions merges the lines of a function).
	 */
	readonly file?: string;
	readonly line?: number;
}

/** The key under which a frame is interned: equal frames share one id. */
export function frameKey(frame: Frame): string {
	const key = `${frame.kind}\u0000${frame.module}\u0000${frame.name}`;
	return frame.file === undefined && frame.line === undefined ? key : `${key}\u0000${frame.file ?? ''}\u0000${frame.line ?? ''}`;
}

/** Module name the model uses for kernel frames (as perf and bcc print it). */
export const KERNEL_MODULE = '[kernel.kallsyms]';

/** Module name the model uses for JIT frames that come without a perf map file name. */
export const JIT_MODULE = '[jit]';
