import { existsSync } from 'node:fs';
import { FileSource, type ByteSource } from './byte-source.ts';
import { ElfFile, textSegmentFor, type ElfSegment } from './elf-file.ts';
import { LruCache } from './lru-cache.ts';
import type { SymbolTable } from './symbol-table.ts';

/** What symbolization needs from one ELF image, kept after the file is closed. */
export interface LoadedElf {
	readonly buildId: string | undefined;
	readonly segments: readonly ElfSegment[];
	readonly symbols: SymbolTable;
	/** The executable PT_LOAD segment holding file offset `off` (see ElfFile.textSegmentFor). */
	textSegmentFor(off: bigint): ElfSegment | undefined;
}

export interface ElfCacheOptions {
	/** Total symbols kept across all cached files. */
	maxSymbols?: number;
	/** How long a file that could not be opened is not retried, in ms. */
	retryFailedAfterMs?: number;
}

export interface ElfCacheStats {
	opened: number;
	sharedByBuildId: number;
	debugFiles: number;
	failures: number;
}

/**
 * ELF images keyed by identity (device+inode of the mapped file, or a pseudo key such as the vDSO),
 * with their symbol tables also shared by GNU build-id: the same library seen through another
 * mount namespace (another device/inode) is parsed once.
 */
export class ElfCache {
	private readonly byFile: LruCache<string, LoadedElf>;
	private readonly byBuildId: LruCache<string, SymbolTable>;
	private readonly failed = new Map<string, number>();
	private readonly retryMs: number;
	readonly stats: ElfCacheStats = { opened: 0, sharedByBuildId: 0, debugFiles: 0, failures: 0 };

	constructor(opts: ElfCacheOptions = {}) {
		const max = opts.maxSymbols ?? 2_000_000;
		this.byFile = new LruCache(max, (e) => e.symbols.size + 1);
		this.byBuildId = new LruCache(max, (t) => t.size + 1);
		this.retryMs = opts.retryFailedAfterMs ?? 60_000;
	}

	/**
	 * The image for `key`, opening the first of `sources` that yields an ELF file when not cached.
	 * `debugRoots` are directories under which `/usr/lib/debug/.build-id/xx/yyyy.debug` is looked up
	 * for a fuller .symtab than a stripped file has.
	 */
	get(key: string, sources: () => Iterable<() => ByteSource>, debugRoots: readonly string[] = []): LoadedElf | undefined {
		const hit = this.byFile.get(key);
		if (hit !== undefined) return hit;
		const failedAt = this.failed.get(key);
		if (failedAt !== undefined && Date.now() - failedAt < this.retryMs) return undefined;
		for (const open of sources()) {
			let src: ByteSource | undefined;
			try {
				src = open();
				const elf = new ElfFile(src);
				const loaded = this.load(elf, debugRoots);
				this.byFile.set(key, loaded);
				this.failed.delete(key);
				return loaded;
			} catch {
				// Try the next way to reach the same file.
			} finally {
				src?.close();
			}
		}
		this.stats.failures++;
		if (this.failed.size > 10_000) this.failed.clear();
		this.failed.set(key, Date.now());
		return undefined;
	}

	get size(): number {
		return this.byFile.size;
	}

	get evictions(): number {
		return this.byFile.evictions;
	}

	private load(elf: ElfFile, debugRoots: readonly string[]): LoadedElf {
		const id = elf.buildId;
		let symbols = id === undefined ? undefined : this.byBuildId.get(id);
		if (symbols !== undefined) {
			this.stats.sharedByBuildId++;
		} else {
			symbols = elf.functions();
			this.stats.opened++;
			if (id !== undefined) {
				const debug = this.debugSymbols(id, debugRoots);
				if (debug !== undefined && debug.size > symbols.size) {
					symbols = debug;
					this.stats.debugFiles++;
				}
				this.byBuildId.set(id, symbols);
			}
		}
		const segments = elf.segments;
		return { buildId: id, segments, symbols, textSegmentFor: (off) => textSegmentFor(segments, off) };
	}

	private debugSymbols(id: string, roots: readonly string[]): SymbolTable | undefined {
		if (id.length < 4) return undefined;
		for (const root of roots) {
			const path = `${root}/usr/lib/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`;
			if (!existsSync(path)) continue;
			let src: FileSource | undefined;
			try {
				src = new FileSource(path);
				const dbg = new ElfFile(src);
				if (dbg.buildId === id) return dbg.functions();
			} catch {
				// A broken debug file is no worse than none.
			} finally {
				src?.close();
			}
		}
		return undefined;
	}
}
