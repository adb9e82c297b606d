import type Database from 'better-sqlite3';
import type { MessageId, ProfileWindow } from '@firesight/protocol';
import type { HostSummary, MergedProfile, ProcessSeen, ProfileQuery, ProfileStore, TimelineQuery } from '../profile-store.ts';
import type { RecordInTransaction } from './ingest-ledger.ts';
import { ProfileCaches } from './profile-caches.ts';
import { ProfileInserter } from './profile-insert.ts';
import { pruneProfiles, type ProfilePruneResult } from './profile-prune.ts';
import { queryProfile } from './profile-query.ts';
import { queryTimeline } from './profile-timeline.ts';

/**
 * Profile windows in SQLite: frames, stacks and comms interned per host, each window's samples
 * one packed blob. Synchronous underneath, async to callers.
 */
export class SqliteProfileStore implements ProfileStore {
	readonly #db: Database.Database;
	readonly #check: () => void;
	readonly #caches: ProfileCaches;
	readonly #inserter: ProfileInserter;

	constructor(db: Database.Database, check: () => void, recordId: RecordInTransaction, cacheBudget?: number) {
		this.#db = db;
		this.#check = check;
		this.#caches = new ProfileCaches(cacheBudget);
		this.#inserter = new ProfileInserter(db, this.#caches, recordId);
	}

	get cacheResets(): number {
		return this.#caches.resets;
	}

	async insertWindow(window: ProfileWindow, id?: MessageId): Promise<void> {
		this.#check();
		this.#inserter.insert(window, id);
	}

	async query(query: ProfileQuery): Promise<MergedProfile> {
		this.#check();
		return queryProfile(this.#db, this.#caches, query);
	}

	async timeline(query: TimelineQuery): Promise<number[]> {
		this.#check();
		return queryTimeline(this.#db, query);
	}

	async listHosts(): Promise<HostSummary[]> {
		this.#check();
		return this.#db
			.prepare(
				`SELECT h.name host, MIN(w.start_ms) firstMs, MAX(w.start_ms + w.duration_ms) lastMs,
				        COUNT(*) windows, SUM(w.frequency_hz * w.duration_ms) / SUM(w.duration_ms) frequencyHz
				 FROM windows w JOIN hosts h ON h.id = w.host_id GROUP BY h.id ORDER BY h.name`,
			)
			.all() as HostSummary[];
	}

	async findProcess(pid: number, host?: string): Promise<ProcessSeen | null> {
		this.#check();
		const row = this.#db
			.prepare(
				`SELECT h.name host, p.pid pid, p.comm comm, p.last_ms lastMs
				 FROM processes p JOIN hosts h ON h.id = p.host_id
				 WHERE p.pid = ? ${host === undefined ? '' : 'AND h.name = ?'}
				 ORDER BY p.last_ms DESC LIMIT 1`,
			)
			.get(...(host === undefined ? [pid] : [pid, host])) as ProcessSeen | undefined;
		return row ?? null;
	}

	/** Drops windows that ended by `cutoffMs` and what only they used. */
	prune(cutoffMs: number): ProfilePruneResult {
		return pruneProfiles(this.#db, this.#caches, cutoffMs);
	}
}
