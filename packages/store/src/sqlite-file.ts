import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { migrations } from './migrations.ts';

export const DEFAULT_RETENTION_MS = 7 * 24 * 3_600_000;
export const DEFAULT_PRUNE_INTERVAL_MS = 10 * 60_000;

/** The data directory a store uses when none is given. */
export function defaultDataDir(): string {
	return resolve(process.env.FIRESIGHT_DATA || './data');
}

export interface SqliteFileOptions {
	/** Directory of `firesight.db`; `$FIRESIGHT_DATA` or `./data` by default. */
	dataDir?: string;
	/** A database file, or `:memory:`; overrides dataDir. */
	path?: string;
}

/**
 * Opens the stores' shared database file, each store through a connection of its own: WAL lets
 * them write in turn, and the busy timeout waits out the other's write instead of failing.
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
	return { path, db };
}

/**
 * Runs migration `version` again when one of its tables is missing: a build that lacked it may
 * have migrated the database past it. Its statements are idempotent.
 */
export function ensureMigrationTables(db: Database.Database, version: number, tables: readonly string[]): void {
	const { n } = db
		.prepare(`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN (${tables.map(() => '?').join(', ')})`)
		.get(...tables) as { n: number };
	if (n < tables.length) migrations.find((m) => m.version === version)?.up(db);
}

/** Prunes every `intervalMs` (0 disables it) without keeping the process alive; failures are logged. */
export function startPruneTimer(intervalMs: number | undefined, what: string, prune: () => void): NodeJS.Timeout | undefined {
	const interval = intervalMs ?? DEFAULT_PRUNE_INTERVAL_MS;
	if (!(interval > 0)) return undefined;
	const timer = setInterval(() => {
		try {
			prune();
		} catch (err) {
			console.error(`firesight store: ${what} failed: ${(err as Error).message}`);
		}
	}, interval);
	timer.unref();
	return timer;
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
