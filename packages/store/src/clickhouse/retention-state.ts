/**
 * What retention has hidden so far. Whole day partitions are dropped, which leaves, in the
 * partitions still kept, rows that already ended before the cutoff: every query hides those by
 * these values, so what a store answers after prune() is exactly what the seam promises.
 * Persisted in `meta`, so a reopened store hides the same.
 */
export interface RetentionState {
	/** Rows that ended before this (epoch ms) are gone; -Infinity before any prune. */
	cutoffMs: number;
	/** Requests with a seq below this are gone (the cap on stored requests). */
	requestSeq: number;
}
