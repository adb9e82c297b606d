import type { ConnectionStore } from './connection-store.ts';
import type { IngestLedger } from './ingest-ledger.ts';
import type { ProfileStore } from './profile-store.ts';
import type { RequestStore } from './request-store.ts';
import type { ShareStore } from './share-store.ts';
import { openClickhouseStorage } from './clickhouse/clickhouse-storage.ts';
import { openSqliteStorage } from './sqlite/sqlite-storage.ts';
import type { StorageOptions } from './storage-options.ts';
import { parseStorageUrl } from './storage-url.ts';

/**
 * Everything the hub keeps, one store per stored signal, behind one backend. Every insert
 * resolves only once what it stored is durable, so the hub may acknowledge a message after it
 * (and record its id in `ingested`, so a replay does not count twice).
 */
export interface Storage {
	readonly profiles: ProfileStore;
	readonly connections: ConnectionStore;
	readonly requests: RequestStore;
	/** Profile snapshots handed out by link; `prune` never touches them. */
	readonly shares: ShareStore;
	/** Which collector messages (by id) are stored already, so a replay is not stored twice. */
	readonly ingested: IngestLedger;
	/**
	 * Drops every signal's data that ended before `nowMs - retentionMs` (and requests over the
	 * cap). The backend does this on its own timer too; calling it makes retention checkable.
	 */
	prune(nowMs?: number): Promise<void>;
	/** Waits for pending writes and releases the backend; every later call rejects. Idempotent. */
	close(): Promise<void>;
}

/** The embedded backend: one SQLite file. */
export interface SqliteStorageConfig extends StorageOptions {
	backend: 'sqlite';
	/** Directory of `firesight.db`; `$FIRESIGHT_DATA` or `./data` when absent. */
	dataDir?: string | undefined;
	/** A database file, or `:memory:` for nothing on disk; overrides dataDir. */
	path?: string | undefined;
	/** SQLite's page cache, in KiB (SQLITE_CACHE_KIB by default); the hub's RSS holds this much once the cache is full. */
	cacheKiB?: number | undefined;
}

/** A ClickHouse server's database (created when missing), for fleets. */
export interface ClickhouseStorageConfig extends StorageOptions {
	backend: 'clickhouse';
	/** `clickhouse://[USER[:PASSWORD]@]HOST:PORT/DB`, PORT the server's HTTP port (8123 when absent). */
	url: string;
}

/** Which backend to open and where; a networked backend adds its own member. */
export type StorageConfig = SqliteStorageConfig | ClickhouseStorageConfig;

/**
 * Opens (creating or migrating as needed) the storage a config names, or a store URL
 * (`sqlite:PATH`, `clickhouse://HOST:PORT/DB`, see parseStorageUrl) with default options.
 */
export async function openStorage(config: StorageConfig | string): Promise<Storage> {
	if (typeof config === 'string') config = parseStorageUrl(config);
	switch (config.backend) {
		case 'sqlite':
			return openSqliteStorage(config);
		case 'clickhouse':
			return openClickhouseStorage(config);
		default:
			throw new Error(`unknown storage backend '${(config as { backend: string }).backend}'`);
	}
}
