export type {
	Store,
	ProfileQuery,
	StackAggregate,
	AggregateStack,
	HostSummary,
	ProcessSeen,
	PruneResult,
} from './store.ts';
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.ts';
export { defaultDataDir, DEFAULT_RETENTION_MS, DEFAULT_PRUNE_INTERVAL_MS } from './sqlite-file.ts';
export { migrations, migrate, type Migration } from './migrations.ts';
export { aggregateToProfile, queryProfile } from './to-profile.ts';
export type {
	ConnectionStore,
	ConnectionQuery,
	ConnectionRetransmits,
	SeriesQuery,
	SeriesPoint,
	RetransmitSeries,
	RetransmitSeriesResult,
} from './connections-store.ts';
export { SqliteConnectionStore, MAX_SERIES_BUCKETS, type SqliteConnectionStoreOptions } from './connections-sqlite.ts';
export type {
	RequestStore,
	StoredRequest,
	RequestFilter,
	RecentRequestsQuery,
	RequestListQuery,
	EndpointQuery,
	HistogramQuery,
	EndpointSummary,
	EndpointsResult,
	HistogramBucket,
	HistogramResult,
} from './requests-store.ts';
export { SqliteRequestStore, DEFAULT_MAX_REQUESTS, type SqliteRequestStoreOptions } from './requests-sqlite.ts';
export { bucketBoundsMs, histogramQuantile } from './requests-histogram.ts';
