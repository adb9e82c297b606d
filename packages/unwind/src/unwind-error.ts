/**
 * Why a table (or one entry of it) could not be built. A closed set, so callers can count each
 * kind on /metrics instead of matching on message text.
 */
export type UnwindErrorCode =
	/** An entry or field runs past the end of its section. */
	| 'truncated'
	/** A field holds a value the format does not allow (bad CIE pointer, unknown opcode, ...). */
	| 'malformed'
	/** Valid, but outside what this reader handles (another architecture, an encoding we skip). */
	| 'unsupported'
	/** The input would need more memory or range than we allow for one file. */
	| 'too-large'
	/** The file is not a readable ELF file. */
	| 'not-elf';

export class UnwindError extends Error {
	constructor(
		readonly code: UnwindErrorCode,
		message: string,
	) {
		super(message);
		this.name = 'UnwindError';
	}
}
