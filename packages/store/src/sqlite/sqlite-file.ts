import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';

/** The data directory SQLite storage uses when none is given. */
export function defaultDataDir(): string {
	return resolve(process.env.FIRESIGHT_DATA || './data');
}

export interface SqliteFileOptions {
	/** Directory of `firesight.db`; `$FIRESIGHT_DATA` or `./data` by default. */
	dataDir?: string;
	/** A database file, or `:memory:`; overrides dataDir. */
	path?: string;
	/** SQLite's page cache of this connection, in KiB; SQLITE_CACHE_KIB by default. */
	cacheKiB?: number;
}

/**
 * SQLite's page cache, in KiB: it fills as the database grows and queries read it, then holds at
 * this size, so the hub's RSS rises by about this much after start. 4 MiB, not better-sqlite3's
 * 16,000 KiB: pages it lets go stay in the kernel's page cache, and reading them back from there
 * cost a whole-host flame query or an ingest nothing measurable (a 15-minute query of a busy host
 * reads about 24 MiB of pages either way), while 16 MiB took a soak's hub about 7 minutes to fill,
 * a rise of its RSS well past start-up.
 */
export const SQLITE_CACHE_KIB = 4_000;

/**
 * Opens the database file. WAL lets readers (another process, a backup) work beside the writer;
 * the busy timeout waits out another connection's write instead of failing.
 */
export function openSqliteFile(options: SqliteFileOptions): { path: string; db: Database.Database } {
	let path = options.path;
	if (!path) {
		const dir = resolve(options.dataDir ?? defaultDataDir());
		mkdirSync(dir, { recursive: true });
		path = join(dir, 'firesight.db');
	}
	const db = new Database(path);
	if (path !== ':memory:') db.pragma('journal_mode = WAL');
	db.pragma('synchronous = NORMAL');
	db.pragma('busy_timeout = 5000');
	db.pragma(`cache_size = -${options.cacheKiB ?? SQLITE_CACHE_KIB}`);
	return { path, db };
}

/** Adds the optional host and pid conditions of a query to a WHERE clause being built. */
export function addHostPidFilter(
	q: { host?: string | undefined; pid?: number | undefined },
	parts: string[],
	params: Record<string, number | string>,
): void {
	if (q.host !== undefined) {
		parts.push('host = @host');
		params.host = q.host;
	}
	if (q.pid !== undefined) {
		parts.push('pid = @pid');
		params.pid = q.pid;
	}
}
