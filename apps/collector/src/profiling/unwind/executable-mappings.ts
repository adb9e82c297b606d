import { parseMaps, textSegmentFor, type ElfSegment, type Mapping } from '@firesight/symbolize';

/**
 * One executable mapping of a process, as the unwinder sees it: code from a file (whose unwind
 * table the walker uses), JIT code (anonymous memory, walked with frame pointers), or something
 * with no file to read (`[vsyscall]`, walked with frame pointers).
 */
export type ExecutableMapping =
	| { readonly kind: 'file'; readonly start: bigint; readonly end: bigint; readonly offset: bigint; readonly file: FileRef }
	| { readonly kind: 'jit' | 'fp'; readonly start: bigint; readonly end: bigint };

/** Where to read a mapped file from, and the identity the kernel gives it. */
export interface FileRef {
	/** `dev:inode` as /proc/PID/maps prints them: the same file in every process of this host. */
	readonly identity: string;
	/** The path as the process sees it (inside its mount namespace). */
	readonly path: string;
	readonly deleted: boolean;
}

/**
 * The executable mappings in /proc/PID/maps text. Anonymous executable memory is JIT code (V8,
 * the JVM, LuaJIT), as are the `[anon:...]` regions some runtimes name; a file path is a file,
 * even deleted (map_files still reaches it); other bracketed names have no file to read.
 */
export function executableMappings(mapsText: string): ExecutableMapping[] {
	const out: ExecutableMapping[] = [];
	for (const m of parseMaps(mapsText)) {
		if (m.perms[2] !== 'x') continue;
		if (m.path.startsWith('/') && m.inode !== 0) {
			out.push({
				kind: 'file',
				start: m.start,
				end: m.end,
				offset: m.offset,
				file: { identity: `${m.dev}:${m.inode}`, path: m.path, deleted: m.deleted },
			});
		} else if (m.path === '' || m.path.startsWith('[anon') || (m.inode === 0 && m.path.startsWith('/'))) {
			// A path with inode 0 is memfd-like or a perf-map JIT region some runtimes name.
			out.push({ kind: 'jit', start: m.start, end: m.end });
		} else {
			out.push({ kind: 'fp', start: m.start, end: m.end });
		}
	}
	return out;
}

/**
 * The load bias of a file mapping: runtime address minus the file's virtual address, through the
 * executable PT_LOAD segment that holds the mapping's file offset. Undefined when the file has
 * no executable segment (then there is nothing to unwind with).
 */
export function loadBias(m: Pick<Mapping, 'start' | 'offset'>, segments: readonly ElfSegment[]): bigint | undefined {
	const seg = textSegmentFor(segments, m.offset);
	if (seg === undefined) return undefined;
	return m.start - m.offset + seg.offset - seg.vaddr;
}

/** The paths that reach a mapped file, best first: the very inode mapped, then by name. */
export function filePaths(procRoot: string, pid: number, m: { start: bigint; end: bigint; file: FileRef }): string[] {
	const paths = [`${procRoot}/${pid}/map_files/${m.start.toString(16)}-${m.end.toString(16)}`];
	if (!m.file.deleted) paths.push(`${procRoot}/${pid}/root${m.file.path}`);
	return paths;
}
