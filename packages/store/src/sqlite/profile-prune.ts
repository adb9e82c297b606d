import type Database from 'better-sqlite3';
import type { ProfileCaches } from './profile-caches.ts';
import { decodeStack } from './profile-codec.ts';
import { STACK_TOUCH_MS } from './profile-insert.ts';

export interface ProfilePruneResult {
	windows: number;
	frames: number;
	stacks: number;
}

/** Drops windows that ended by `cutoffMs`, and the stacks, frames and processes nothing retained uses. */
export function pruneProfiles(db: Database.Database, caches: ProfileCaches, cutoffMs: number): ProfilePruneResult {
	const result = db.transaction((): ProfilePruneResult => {
		db.prepare('DELETE FROM window_samples WHERE window_id IN (SELECT id FROM windows WHERE start_ms + duration_ms <= ?)').run(cutoffMs);
		const windows = db.prepare('DELETE FROM windows WHERE start_ms + duration_ms <= ?').run(cutoffMs).changes;
		db.prepare('DELETE FROM processes WHERE last_ms <= ?').run(cutoffMs);
		if (windows === 0) return { windows: 0, frames: 0, stacks: 0 };
		// Stacks outlive their windows by up to STACK_TOUCH_MS: last_ms is only rewritten that often.
		const stacks = db.prepare('DELETE FROM stacks WHERE last_ms <= ?').run(cutoffMs - STACK_TOUCH_MS).changes;
		// Label rows are touched as stacks are, so the same margin applies.
		const labels = db.prepare('DELETE FROM sample_labels WHERE last_ms <= ?').run(cutoffMs - STACK_TOUCH_MS).changes;
		if (labels > 0) caches.forget();
		let frames = 0;
		if (stacks > 0) {
			// Frame ids live inside stack blobs, out of SQL's reach: collect the live ones here.
			const live = new Set<number>();
			for (const r of db.prepare('SELECT frame_ids FROM stacks').iterate() as Iterable<{ frame_ids: Buffer }>) {
				for (const id of decodeStack(r.frame_ids)) live.add(id);
			}
			db.exec('CREATE TEMP TABLE IF NOT EXISTS live_frames (id INTEGER PRIMARY KEY)');
			db.exec('DELETE FROM live_frames');
			const ins = db.prepare('INSERT INTO live_frames (id) VALUES (?)');
			for (const id of live) ins.run(id);
			frames = db.prepare('DELETE FROM frames WHERE id NOT IN (SELECT id FROM live_frames)').run().changes;
			db.exec('DELETE FROM live_frames');
		}
		return { windows, frames, stacks };
	})();
	if (result.windows > 0) caches.prunes++;
	// Cached ids may name deleted rows now; a later insert must not reuse them.
	if (result.stacks > 0 || result.frames > 0) caches.forget();
	return result;
}
