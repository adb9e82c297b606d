export const DEFAULT_RETENTION_MS = 7 * 24 * 3_600_000;
export const DEFAULT_PRUNE_INTERVAL_MS = 10 * 60_000;
export const DEFAULT_MAX_REQUESTS = 1_000_000;

/** What every backend takes. */
export interface StorageOptions {
	/** Data older than this is dropped; 7 days by default. */
	retentionMs?: number | undefined;
	/** Individual requests kept at most (the oldest go first; 1,000,000 by default); aggregates are not capped. */
	maxRequests?: number | undefined;
	/** How often the backend prunes by itself; 0 disables it (call `prune()`). 10 minutes by default. */
	pruneIntervalMs?: number | undefined;
	/**
	 * Entries the profile store's caches of stored ids (stacks, frames) hold before they start
	 * over; the default suits a hub of tens of hosts. Each start-over is counted in
	 * `ProfileStore.cacheResets`.
	 */
	profileCacheBudget?: number | undefined;
	/** The clock prune() uses when given no time. */
	now?: (() => number) | undefined;
}
