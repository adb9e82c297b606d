export { openStorage, type Storage, type StorageConfig, type SqliteStorageConfig, type ClickhouseStorageConfig } from './storage.ts';
export { parseStorageUrl } from './storage-url.ts';
export { SQLITE_CACHE_KIB } from './sqlite/sqlite-file.ts';
export { DEFAULT_RETENTION_MS, DEFAULT_PRUNE_INTERVAL_MS, DEFAULT_MAX_REQUESTS, type StorageOptions } from './storage-options.ts';
export {
	FALLBACK_FREQUENCY_HZ,
	type ProfileStore,
	type ProfileQuery,
	type TimelineQuery,
	type MergedProfile,
	type HostSummary,
	type ProcessSeen,
} from './profile-store.ts';
export {
	MAX_SERIES_BUCKETS,
	type ConnectionStore,
	type ConnectionQuery,
	type ConnectionRetransmits,
	type SeriesQuery,
	type SeriesPoint,
	type RetransmitSeries,
	type RetransmitSeriesResult,
} from './connection-store.ts';
export type {
	RequestStore,
	StoredRequest,
	RequestFilter,
	RequestListQuery,
	EndpointQuery,
	HistogramQuery,
	EndpointSummary,
	EndpointsResult,
	HistogramBucket,
	HistogramResult,
} from './request-store.ts';
export type { IngestLedger } from './ingest-ledger.ts';
export { bucketBoundsMs, histogramQuantile } from './request-histogram.ts';
export {
	MAX_SHARE_PROCESSES,
	newShareId,
	isShareId,
	type ShareStore,
	type Share,
	type ShareSummary,
	type NewShare,
	type ShareSource,
	type ShareViewState,
} from './share-store.ts';
export { withQueryBudget, querySignal, checkQueryBudget, QueryAbortedError, type QueryBudget } from './query-budget.ts';
