import type { ConnectionStore } from './connection-store.ts';
import type { ProfileStore } from './profile-store.ts';
import type { RequestStore } from './request-store.ts';
import type { ShareStore } from './share-store.ts';
import { openSqliteStorage } from './sqlite/sqlite-storage.ts';
import type { StorageOptions } from './storage-options.ts';

/**
 * Everything the hub keeps, one store per stored signal, behind one backend. Every insert
 * resolves only once what it stored is durable, so the hub may acknowledge a message after it
 * (a message id, for replays that must not count twice, fits in as one more argument).
 */
export interface Storage {
	readonly profiles: ProfileStore;
	readonly connections: ConnectionStore;
	readonly requests: RequestStore;
	/** Profile snapshots handed out by link; `prune` never touches them. */
	readonly shares: ShareStore;
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
}

/** Which backend to open and where; a networked backend adds its own member. */
export type StorageConfig = SqliteStorageConfig;

/** Opens (creating or migrating as needed) the storage a config names. */
export async function openStorage(config: StorageConfig): Promise<Storage> {
	switch (config.backend) {
		case 'sqlite':
			return openSqliteStorage(config);
		default:
			throw new Error(`unknown storage backend '${(config as { backend: string }).backend}'`);
	}
}
