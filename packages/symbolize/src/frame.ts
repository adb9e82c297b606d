/**
 * Structural copy of `Frame` from `@firesight/profile` (packages/profile/src/frame.ts). That
 * package does not export it from its entry point yet; once it does, this file should become
 * `export type { Frame, FrameKind } from '@firesight/profile'`. Keep the two identical.
 */
export type FrameKind = 'user' | 'kernel' | 'jit';

export interface Frame {
	/** Function name, demangled; or `module+0xoffset` when no symbol covers the address. */
	readonly name: string;
	/** Basename of the ELF file or `[kernel.kallsyms]` / `[jit]`; empty when unknown. */
	readonly module: string;
	readonly kind: FrameKind;
}
