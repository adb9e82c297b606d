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

/** The default budget of ELF symbol tables kept, in bytes (see ElfCacheOptions.maxBytes). */
export const DEFAULT_ELF_CACHE_BYTES = 64 * 1024 * 1024;

export interface ElfCacheOptions {
	/**
	 * Bytes of symbol tables kept across all cached files (SymbolTable.bytes), least recently used
	 * let go first: a count of symbols bounded nothing, as a C++ library's names run to hundreds of
	 * bytes each. A file over the budget alone is still kept, alone. DEFAULT_ELF_CACHE_BYTES by default.
	 */
	maxBytes?: number;
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
 * mount namespace (another device/inode) is parsed once. Only the files hold their tables: the
 * build-id index holds them weakly, so the byte budget of the files bounds all of it.
 */
export class ElfCache {
	private readonly byFile: LruCache<string, LoadedElf>;
	private readonly byBuildId = new Map<string, WeakRef<SymbolTable>>();
	private readonly forgetBuildId = new FinalizationRegistry<string>((id) => {
		if (this.byBuildId.get(id)?.deref() === undefined) this.byBuildId.delete(id);
	});
	private readonly failed = new Map<string, number>();
	private readonly retryMs: number;
	readonly stats: ElfCacheStats = { opened: 0, sharedByBuildId: 0, debugFiles: 0, failures: 0 };

	constructor(opts: ElfCacheOptions = {}) {
		// A table shared by build-id is weighed once for each file holding it: the budget errs high.
		this.byFile = new LruCache(opts.maxBytes ?? DEFAULT_ELF_CACHE_BYTES, (e) => e.symbols.bytes + 1);
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

	/** Bytes of the symbol tables of the files kept (see ElfCacheOptions.maxBytes). */
	get bytes(): number {
		return this.byFile.weight;
	}

	private load(elf: ElfFile, debugRoots: readonly string[]): LoadedElf {
		const id = elf.buildId;
		let symbols = id === undefined ? undefined : this.byBuildId.get(id)?.deref();
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
				this.byBuildId.set(id, new WeakRef(symbols));
				this.forgetBuildId.register(symbols, id);
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
