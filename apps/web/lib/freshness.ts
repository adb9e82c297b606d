import { formatAgo } from './format.ts';

/**
 * How long after its arrival a live snapshot still counts as current. Collectors send one a
 * second, so five missed in a row mean the stream has stopped, not that it is late.
 */
export const STALE_AFTER_MS = 5_000;

/** Anything the browser stamped with the time it received it. */
export interface Received {
	/** The browser's clock when the snapshot arrived: never the collector's or the hub's. */
	receivedAt: number;
}

/**
 * Whether a snapshot is older than `staleAfterMs`. Judged on the browser's clock alone: the
 * collector's `ts` comes from another clock and, under load, from seconds before the page
 * could read it, so comparing it with the browser's time called fresh data "no data".
 */
export function isStale(snapshot: Received, now: number, staleAfterMs = STALE_AFTER_MS): boolean {
	return now - snapshot.receivedAt > staleAfterMs;
}

export interface LiveFreshness {
	/** 'none' until a first snapshot arrives; 'stale' when even the newest is old. */
	state: 'none' | 'fresh' | 'stale';
	/** When the newest snapshot arrived; null before the first. */
	lastReceivedAt: number | null;
	/** Since then (never negative: `now` may be read just before a snapshot lands). */
	ageMs: number | null;
}

/** The freshness of a page fed by several hosts' snapshots: as fresh as the newest one. */
export function liveFreshness(snapshots: Iterable<Received>, now: number, staleAfterMs = STALE_AFTER_MS): LiveFreshness {
	let last: number | null = null;
	for (const { receivedAt } of snapshots) if (last === null || receivedAt > last) last = receivedAt;
	if (last === null) return { state: 'none', lastReceivedAt: null, ageMs: null };
	const ageMs = Math.max(0, now - last);
	return { state: ageMs > staleAfterMs ? 'stale' : 'fresh', lastReceivedAt: last, ageMs };
}

/** `last update 12 s ago` while stale; null while fresh or before the first snapshot. */
export function staleNote(freshness: LiveFreshness): string | null {
	if (freshness.state !== 'stale' || freshness.ageMs === null) return null;
	return `last update ${formatAgo(freshness.ageMs)} ago`;
}
