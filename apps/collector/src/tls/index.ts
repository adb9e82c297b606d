export { TlsCapture, monoToWallMs, type TlsCaptureOptions, type TlsCaptureCounters, type TlsCaptureEvents } from './tls-capture.ts';
export type { TlsRequest } from './tls-request.ts';
export { RequestAggregator, LATENCY_BUCKETS, latencyBucket, quantile, type TlsAggregates, type EndpointAggregate, type ProcessAggregate, type RequestStats } from './request-aggregates.ts';
export { RecentRequests } from './recent-requests.ts';
export { ConnectionTracker, formatEndpoint, type ConnectionSummary, type TrackedExchange } from './connection-tracker.ts';
export { TargetDiscovery, type AttachedFile, type DiscoveryStats, type ProbeTarget } from './target-discovery.ts';
export { redactHeaders, redactUrl, REDACTED } from './redaction.ts';
