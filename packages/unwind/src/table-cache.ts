import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElfFile, FileSource } from '@firesight/symbolize';
import { buildElfUnwindTable } from './elf-unwind.ts';
import { UnwindError } from './unwind-error.ts';
import { TABLE_VERSION, UnwindTable } from './unwind-table.ts';

/**
 * What the builder puts in a table of one layout version: a table built before a change of it
 * is built again, not read from the disk. 2: crti's .init and .fini rules.
 */
const BUILD_REVISION = 2;

export interface UnwindTableCacheOptions {
	/** Tables kept on disk; the least recently written go first. Default 256. */
	readonly maxEntries?: number;
}

/** Where a table came from, for /metrics. */
export type CacheOutcome = 'disk' | 'built';

/**
 * Unwind tables on disk, one file per ELF file, so a restarted collector does not rebuild libc.
 * A file is known by its GNU build-id (the same code wherever it is installed), else by
 * device, inode, size and modification time. Writes go to a temporary name and are renamed into
 * place, so a crash never leaves half a table; a table that does not parse is rebuilt.
 */
export class UnwindTableCache {
	private readonly maxEntries: number;
	private readonly counters = { disk: 0, built: 0, unreadable: 0, writeFailed: 0 };

	constructor(
		readonly dir: string,
		options: UnwindTableCacheOptions = {},
	) {
		this.maxEntries = options.maxEntries ?? 256;
	}

	/** The cache key of an ELF file: `b-<build-id>` or `i-<dev>-<ino>-<size>-<mtime>`. */
	static keyFor(path: string): string {
		const src = open(path);
		try {
			return keyOf(path, src);
		} finally {
			src.close();
		}
	}

	/**
	 * The table for an ELF file, from disk when built before. The key and the table come from
	 * one open file, so a file replaced in between cannot file its table under the old key.
	 * Throws `UnwindError` only.
	 */
	tableFor(path: string): { table: UnwindTable; key: string; from: CacheOutcome } {
		const src = open(path);
		let key: string;
		try {
			key = keyOf(path, src);
		} catch (err) {
			src.close();
			throw err;
		}
		const cached = this.get(key);
		if (cached !== undefined) {
			src.close();
			this.counters.disk++;
			return { table: cached, key, from: 'disk' };
		}
		// Closes src.
		const { table } = buildElfUnwindTable(src);
		this.counters.built++;
		this.put(key, table);
		return { table, key, from: 'built' };
	}

	/**
	 * The table for an ELF file if it is on disk, else undefined: never builds, so it is cheap
	 * enough for a thread that must not be held up (a few reads of headers and one of the table).
	 * Throws `UnwindError` only.
	 */
	cachedTableFor(path: string): { table: UnwindTable; key: string; from: 'disk' } | undefined {
		const src = open(path);
		let key: string;
		try {
			key = keyOf(path, src);
		} finally {
			src.close();
		}
		const cached = this.get(key);
		if (cached === undefined) return undefined;
		this.counters.disk++;
		return { table: cached, key, from: 'disk' };
	}

	get(key: string): UnwindTable | undefined {
		let bytes: Buffer;
		try {
			bytes = readFileSync(this.pathOf(key));
		} catch {
			return undefined;
		}
		try {
			const table = new UnwindTable(bytes);
			this.touch(key);
			return table;
		} catch (err) {
			if (!(err instanceof UnwindError)) throw err;
			this.counters.unreadable++;
			return undefined;
		}
	}

	put(key: string, table: UnwindTable): void {
		try {
			mkdirSync(this.dir, { recursive: true });
			const final = this.pathOf(key);
			const tmp = `${final}.${process.pid}.tmp`;
			writeFileSync(tmp, table.bytes);
			renameSync(tmp, final);
			this.prune();
		} catch {
			// A read-only or full disk costs a rebuild after restart, nothing more.
			this.counters.writeFailed++;
		}
	}

	stats(): Readonly<typeof this.counters> {
		return { ...this.counters };
	}

	/**
	 * Marks a table as just used: pruning goes by modification time, and a table read every day
	 * (libc, node) must outlive the throwaway programs built since it was written.
	 */
	private touch(key: string): void {
		const now = new Date();
		try {
			utimesSync(this.pathOf(key), now, now);
		} catch {
			// A read-only cache still serves its tables; they just age by when they were written.
		}
	}

	private pathOf(key: string): string {
		return join(this.dir, `${key}.v${TABLE_VERSION}.b${BUILD_REVISION}.fsuw`);
	}

	private prune(): void {
		const files = readdirSync(this.dir).filter((f) => f.endsWith('.fsuw'));
		if (files.length <= this.maxEntries) return;
		const byAge = files.map((f) => ({ f, t: statSync(join(this.dir, f)).mtimeMs })).sort((a, b) => a.t - b.t);
		for (const { f } of byAge.slice(0, files.length - this.maxEntries)) unlinkSync(join(this.dir, f));
	}
}

function open(path: string): FileSource {
	try {
		return new FileSource(path);
	} catch (err) {
		throw new UnwindError('not-elf', `${path}: ${(err as Error).message}`);
	}
}

function keyOf(path: string, src: FileSource): string {
	try {
		const buildId = new ElfFile(src).buildId;
		if (buildId !== undefined && /^[0-9a-f]{2,128}$/.test(buildId)) return `b-${buildId}`;
	} catch {
		// Not readable as ELF: keyed by identity, and the build will say why.
	}
	let st;
	try {
		st = statSync(path, { bigint: true });
	} catch (err) {
		throw new UnwindError('not-elf', `${path}: ${(err as Error).message}`);
	}
	// The path may name another file by now; the open one's identity is what was read.
	if (Number(st.ino) !== src.ino || Number(st.dev) !== src.dev) throw new UnwindError('not-elf', `${path}: replaced while being read`);
	return `i-${st.dev}-${st.ino}-${st.size}-${st.mtimeNs}`;
}
