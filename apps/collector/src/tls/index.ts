export { TlsCapture, type TlsCaptureOptions, type TlsCaptureCounters, type TlsCaptureEvents } from './tls-capture.ts';
export { RequestAggregator, LATENCY_BUCKETS, latencyBucket, quantile, type TlsAggregates, type EndpointAggregate, type ProcessAggregate, type RequestStats } from './request-aggregates.ts';
export { ConnectionTracker, formatEndpoint, type ConnectionSummary, type TrackedExchange } from './connection-tracker.ts';
export { TargetDiscovery, type AttachedFile, type DiscoveryStats, type ProbeTarget } from './target-discovery.ts';
