import { gunzipSync } from 'node:zlib';
import { fromCpuprofile } from './cpuprofile.ts';
import { parseFolded } from './folded.ts';
import { fromPerfScript } from './perf-script.ts';
import { fromPprof } from './pprof.ts';
import type { Profile } from './profile.ts';

/** What an imported file may cost; every bound is one clear error, never a crash. */
export interface ImportLimits {
	/** Bytes of the file as given. 32 MiB by default. */
	maxBytes?: number;
	/** Bytes once gunzipped: a small gzip bomb inflates to gigabytes. 64 MiB by default. */
	maxInflatedBytes?: number;
	/** Distinct frames. 500,000 by default. */
	maxFrames?: number;
	/** Distinct (stack, pid, comm) rows. 1,000,000 by default. */
	maxStacks?: number;
	/** Frames in one stack. 4,096 by default (perf's default is 127, V8's and Go's are lower). */
	maxDepth?: number;
}

export const DEFAULT_IMPORT_LIMITS: Required<ImportLimits> = {
	maxBytes: 32 * 1024 * 1024,
	maxInflatedBytes: 64 * 1024 * 1024,
	maxFrames: 500_000,
	maxStacks: 1_000_000,
	maxDepth: 4096,
};

/** Frames in all stacks of a call tree together; other formats are bounded by their size. */
const MAX_STACK_FRAMES = 50_000_000;

export type ImportFormat = 'pprof' | 'cpuprofile' | 'perf-script' | 'folded';

export interface ImportedProfile {
	profile: Profile;
	format: ImportFormat;
}

/**
 * Why a file could not be imported, in one line. `tooLarge` tells a size limit (HTTP 413) from
 * a file that is not a profile or is damaged (400).
 */
export class ImportError extends Error {
	readonly tooLarge: boolean;

	constructor(message: string, tooLarge = false) {
		super(message);
		this.name = 'ImportError';
		this.tooLarge = tooLarge;
	}
}

function mib(bytes: number): string {
	return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

function oneLine(text: string): string {
	const line = text.replace(/\s+/g, ' ').trim();
	return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** Text formats only ever hold printable UTF-8; a binary pprof almost always holds control bytes. */
function looksLikeText(bytes: Uint8Array): boolean {
	const n = Math.min(bytes.length, 4096);
	for (let i = 0; i < n; i++) {
		const b = bytes[i]!;
		if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) return false;
	}
	return true;
}

function decode(bytes: Uint8Array, max: Required<ImportLimits>): ImportedProfile | null {
	if (looksLikeText(bytes)) {
		let text: string;
		try {
			text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
		} catch {
			return null;
		}
		const cpuprofile = fromCpuprofile(text, { maxDepth: max.maxDepth, maxStackFrames: MAX_STACK_FRAMES });
		if (cpuprofile) return { profile: cpuprofile, format: 'cpuprofile' };
		const perf = fromPerfScript(text);
		if (perf) return { profile: perf, format: 'perf-script' };
		const folded = parseFolded(text);
		if (folded) return { profile: folded, format: 'folded' };
		return null;
	}
	const pprof = fromPprof(bytes);
	return pprof ? { profile: pprof, format: 'pprof' } : null;
}

/**
 * Reads a profile file of any supported format: pprof (gzipped or not), Chrome `.cpuprofile`,
 * `perf script` text and folded stacks. Throws an `ImportError` with one line for everything a
 * file can do wrong: empty, too large, inflating too far, truncated, damaged, not a profile,
 * no samples, or beyond the frame, stack or depth limits.
 */
export function importProfile(input: Uint8Array, limits: ImportLimits = {}): ImportedProfile {
	const max = { ...DEFAULT_IMPORT_LIMITS, ...limits };
	if (input.length === 0) throw new ImportError('the file is empty');
	if (input.length > max.maxBytes) throw new ImportError(`the file is larger than ${mib(max.maxBytes)}, the import limit`, true);
	let bytes = input;
	if (input.length >= 2 && input[0] === 0x1f && input[1] === 0x8b) {
		try {
			bytes = gunzipSync(input, { maxOutputLength: max.maxInflatedBytes });
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
				throw new ImportError(`the file inflates to more than ${mib(max.maxInflatedBytes)}, the import limit`, true);
			}
			throw new ImportError('the gzip data is truncated or damaged');
		}
		if (bytes.length === 0) throw new ImportError('the file is empty once gunzipped');
	}
	let imported: ImportedProfile | null;
	try {
		imported = decode(bytes, max);
	} catch (err) {
		throw new ImportError(`the file is damaged: ${oneLine((err as Error).message)}`);
	}
	if (imported === null) throw new ImportError('not a profile: expected pprof, folded stacks, perf script output or a .cpuprofile');
	const { profile, format } = imported;
	if (profile.frames.length > max.maxFrames) {
		throw new ImportError(`the ${format} has ${profile.frames.length} distinct frames, over the limit of ${max.maxFrames}`);
	}
	if (profile.samples.length > max.maxStacks) {
		throw new ImportError(`the ${format} has ${profile.samples.length} distinct stacks, over the limit of ${max.maxStacks}`);
	}
	let total = 0;
	for (const sample of profile.samples) {
		if (sample.stack.length > max.maxDepth) {
			throw new ImportError(`the ${format} has a stack ${sample.stack.length} frames deep, over the limit of ${max.maxDepth}`);
		}
		total += sample.weight;
	}
	if (!Number.isSafeInteger(total)) throw new ImportError(`the ${format} has more samples than a count holds exactly`);
	if (total === 0) throw new ImportError(`the ${format} has no samples`);
	return imported;
}
