import { gunzipSync, gzipSync } from 'node:zlib';
import type Database from 'better-sqlite3';
import type { Profile } from '@firesight/profile';
import { isShareId, type NewShare, type Share, type ShareStore, type ShareSummary } from '../share-store.ts';
import { newShareSummary, SHARE_SUMMARY_COLUMNS, shareSummaryOf, type ShareRow } from '../stored-rows.ts';

/**
 * Shares in SQLite: one row each, the snapshot a gzipped JSON blob. A share is read whole and
 * never queried inside, so nothing is gained by interning its frames with the windows'.
 */
export class SqliteShareStore implements ShareStore {
	readonly #db: Database.Database;
	readonly #check: () => void;
	readonly #now: () => number;

	constructor(db: Database.Database, check: () => void, now: () => number) {
		this.#db = db;
		this.#check = check;
		this.#now = now;
	}

	async create(share: NewShare): Promise<ShareSummary> {
		this.#check();
		const summary = newShareSummary(share, this.#now());
		const blob = gzipSync(JSON.stringify(share.profile));
		this.#db
			.prepare(
				`INSERT INTO shares (id, created_ms, creator, source, view_state, total_samples, stacks, profile)
				 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			)
			.run(
				summary.id,
				summary.createdMs,
				summary.creator,
				JSON.stringify(summary.source),
				summary.viewState === null ? null : JSON.stringify(summary.viewState),
				summary.totalSamples,
				summary.stacks,
				blob,
			);
		return summary;
	}

	async get(id: string): Promise<Share | null> {
		this.#check();
		if (!isShareId(id)) return null;
		const row = this.#db.prepare(`SELECT ${SHARE_SUMMARY_COLUMNS}, profile FROM shares WHERE id = ?`).get(id) as
			(ShareRow & { profile: Buffer }) | undefined;
		if (!row) return null;
		return { ...shareSummaryOf(row), profile: JSON.parse(gunzipSync(row.profile).toString('utf8')) as Profile };
	}

	async summary(id: string): Promise<ShareSummary | null> {
		this.#check();
		if (!isShareId(id)) return null;
		const row = this.#db.prepare(`SELECT ${SHARE_SUMMARY_COLUMNS} FROM shares WHERE id = ?`).get(id) as ShareRow | undefined;
		return row ? shareSummaryOf(row) : null;
	}

	async list(): Promise<ShareSummary[]> {
		this.#check();
		const rows = this.#db.prepare(`SELECT ${SHARE_SUMMARY_COLUMNS} FROM shares ORDER BY created_ms DESC, rowid DESC`).all() as ShareRow[];
		return rows.map(shareSummaryOf);
	}

	async delete(id: string): Promise<boolean> {
		this.#check();
		if (!isShareId(id)) return false;
		return this.#db.prepare('DELETE FROM shares WHERE id = ?').run(id).changes > 0;
	}
}
