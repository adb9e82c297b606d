import type Database from 'better-sqlite3';
import type { TimelineQuery } from '../profile-store.ts';
import { sampleWords } from './profile-codec.ts';
import { checkQueryBudget } from '../query-budget.ts';
import { labelIdsMatching, labelWindowsOnly } from './profile-query.ts';

/** The longest window the protocol accepts; bounds the index range a time query must scan. */
const MAX_WINDOW_MS = 3_600_000;

/** Samples per bucket: the windows `queryProfile` would merge, each summed into its start's bucket. */
export function queryTimeline(db: Database.Database, q: TimelineQuery): number[] {
	const buckets = new Array<number>(Math.max(0, Math.ceil((q.toMs - q.fromMs) / q.bucketMs))).fill(0);
	if (buckets.length === 0) return buckets;
	const where = ['w.start_ms > @lo', 'w.start_ms < @to', 'w.start_ms + w.duration_ms > @from'];
	const params: Record<string, number | string> = { lo: q.fromMs - MAX_WINDOW_MS, to: q.toMs, from: q.fromMs };
	if (q.host !== undefined) {
		where.push('h.name = @host');
		params.host = q.host;
	}
	let commFilter: Set<number> | undefined;
	if (q.comm !== undefined) {
		commFilter = new Set((db.prepare('SELECT id FROM comms WHERE comm = ?').raw().all(q.comm) as [number][]).map((r) => r[0]));
	}
	const labelFilter = labelIdsMatching(db, q);
	const rows = db
		.prepare(
			`SELECT w.start_ms, ws.data, ws.labels FROM windows w JOIN hosts h ON h.id = w.host_id
			 JOIN window_samples ws ON ws.window_id = w.id WHERE ${where.join(' AND ')}${labelWindowsOnly(q)}`,
		)
		.raw()
		.iterate(params) as Iterable<[number, Buffer, Buffer | null]>;
	for (const [startMs, data, labelData] of rows) {
		checkQueryBudget();
		const bucket = Math.min(buckets.length - 1, Math.max(0, Math.floor((startMs - q.fromMs) / q.bucketMs)));
		const quads = sampleWords(data);
		const labels = labelData === null ? undefined : sampleWords(labelData);
		let sum = 0;
		for (let o = 0; o + 4 <= quads.length; o += 4) {
			if (q.pid !== undefined && quads[o + 1] !== q.pid) continue;
			if (commFilter && !commFilter.has(quads[o + 2]!)) continue;
			if (labelFilter && !labelFilter.has(labels?.[o >>> 2] ?? 0)) continue;
			sum += quads[o + 3]!;
		}
		buckets[bucket]! += sum;
	}
	return buckets;
}
