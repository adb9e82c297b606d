import type { SqliteStorageConfig, Storage } from '../storage.ts';
import { DEFAULT_MAX_REQUESTS, DEFAULT_PRUNE_INTERVAL_MS, DEFAULT_RETENTION_MS } from '../storage-options.ts';
import { SqliteConnectionStore } from './connection-store.ts';
import { SqliteIngestLedger } from './ingest-ledger.ts';
import { migrate } from './migrations.ts';
import { SqliteProfileStore } from './profile-store.ts';
import { SqliteRequestStore } from './request-store.ts';
import { SqliteShareStore } from './share-store.ts';
import { openSqliteFile } from './sqlite-file.ts';

/**
 * Every signal in one SQLite file, through one connection: better-sqlite3 is synchronous, so
 * one connection serializes the writes that separate ones would make wait on each other.
 */
export function openSqliteStorage(config: SqliteStorageConfig): Storage {
	const { db } = openSqliteFile({ dataDir: config.dataDir, path: config.path, cacheKiB: config.cacheKiB });
	try {
		migrate(db);
	} catch (err) {
		db.close();
		throw err;
	}
	const retentionMs = config.retentionMs ?? DEFAULT_RETENTION_MS;
	const maxRequests = config.maxRequests ?? DEFAULT_MAX_REQUESTS;
	const now = config.now ?? Date.now;
	let closed = false;
	const check = (): void => {
		if (closed) throw new Error('storage is closed');
	};
	const ingested = new SqliteIngestLedger(db, check, now);
	// A stored message's rows and its ledger row commit in one transaction.
	const profiles = new SqliteProfileStore(db, check, ingested.recordInTransaction, config.profileCacheBudget);
	const connections = new SqliteConnectionStore(db, check, ingested.recordInTransaction);
	const requests = new SqliteRequestStore(db, check, ingested.recordInTransaction);
	const shares = new SqliteShareStore(db, check, now);
	const prune = (nowMs: number): void => {
		const cutoff = nowMs - retentionMs;
		profiles.prune(cutoff);
		connections.prune(cutoff);
		requests.prune(cutoff, maxRequests);
		ingested.prune(cutoff);
	};
	const interval = config.pruneIntervalMs ?? DEFAULT_PRUNE_INTERVAL_MS;
	// Unref'd: pruning alone must not keep the process alive.
	const timer =
		interval > 0
			? setInterval(() => {
					try {
						prune(now());
					} catch (err) {
						console.error(`firesight storage: prune failed: ${(err as Error).message}`);
					}
				}, interval).unref()
			: undefined;
	return {
		profiles,
		connections,
		requests,
		shares,
		ingested,
		async prune(nowMs = now()) {
			check();
			prune(nowMs);
		},
		async close() {
			if (closed) return;
			closed = true;
			if (timer) clearInterval(timer);
			db.close();
		},
	};
}
