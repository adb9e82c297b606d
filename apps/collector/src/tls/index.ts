export { tlsFeature, type TlsFeatureOptions } from './tls-feature.ts';
export { TlsCapture, type TlsCaptureOptions, type TlsCaptureCounters, type TlsCaptureEvents } from './tls-capture.ts';
export { RequestAggregator, latencyBucket, quantile, type RequestAggregates } from './request-aggregates.ts';
export { ConnectionTracker, formatEndpoint, type ConnectionEnds, type ConnectionSummary } from './connection-tracker.ts';
export { TargetDiscovery, type AttachedFile, type DiscoveryStats, type ProbeTarget } from './target-discovery.ts';
