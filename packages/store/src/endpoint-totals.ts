import { REQUEST_LATENCY_BUCKETS } from '@firesight/protocol';
import { addHistogram, bucketBoundsMs, histogramQuantile } from './request-histogram.ts';
import type { EndpointSummary, HistogramBucket, HistogramResult } from './request-store.ts';

/**
 * What adds up when an endpoint's windows (in a store) or processes (in the dashboard) are
 * merged; the mean, error rate and percentiles are taken from the sums afterwards, never summed.
 */
export interface EndpointTotals {
	count: number;
	errors: number;
	clientErrors: number;
	reqBytes: number;
	respBytes: number;
	/** Sum of the latencies, ms: the mean is this over `count`. */
	sumMs: number;
	maxMs: number;
	histogram: number[];
}

/** The figures of an endpoint summary that come from its totals. */
export type EndpointFigures = Pick<
	EndpointSummary,
	| 'count'
	| 'errors'
	| 'clientErrors'
	| 'errorRate'
	| 'reqBytes'
	| 'respBytes'
	| 'meanMs'
	| 'maxMs'
	| 'p50Ms'
	| 'p90Ms'
	| 'p99Ms'
	| 'histogram'
>;

export function emptyEndpointTotals(buckets = REQUEST_LATENCY_BUCKETS): EndpointTotals {
	return {
		count: 0,
		errors: 0,
		clientErrors: 0,
		reqBytes: 0,
		respBytes: 0,
		sumMs: 0,
		maxMs: 0,
		histogram: new Array<number>(buckets).fill(0),
	};
}

export function addEndpointTotals(into: EndpointTotals, from: EndpointTotals): void {
	into.count += from.count;
	into.errors += from.errors;
	into.clientErrors += from.clientErrors;
	into.reqBytes += from.reqBytes;
	into.respBytes += from.respBytes;
	into.sumMs += from.sumMs;
	into.maxMs = Math.max(into.maxMs, from.maxMs);
	addHistogram(into.histogram, from.histogram);
}

/** The p50, p90 and p99 of a summed histogram, capped at the largest latency seen. */
export function histogramPercentiles(histogram: readonly number[], maxMs: number): Pick<HistogramResult, 'p50Ms' | 'p90Ms' | 'p99Ms'> {
	return {
		p50Ms: histogramQuantile(histogram, 0.5, maxMs),
		p90Ms: histogramQuantile(histogram, 0.9, maxMs),
		p99Ms: histogramQuantile(histogram, 0.99, maxMs),
	};
}

export function endpointFigures(t: EndpointTotals): EndpointFigures {
	return {
		count: t.count,
		errors: t.errors,
		clientErrors: t.clientErrors,
		errorRate: t.count ? t.errors / t.count : 0,
		reqBytes: t.reqBytes,
		respBytes: t.respBytes,
		meanMs: t.count ? t.sumMs / t.count : 0,
		maxMs: t.maxMs,
		...histogramPercentiles(t.histogram, t.maxMs),
		histogram: t.histogram,
	};
}

/** The histogram's buckets from the first to the last non-empty one, as the latency chart draws them. */
export function histogramBuckets(histogram: readonly number[]): HistogramBucket[] {
	const first = histogram.findIndex((n) => n > 0);
	if (first < 0) return [];
	const last = histogram.findLastIndex((n) => n > 0);
	const buckets: HistogramBucket[] = [];
	for (let index = first; index <= last; index++) buckets.push({ index, ...bucketBoundsMs(index), count: histogram[index] ?? 0 });
	return buckets;
}

/** One endpoint's summed histogram as the store answers it. */
export function histogramResult(histogram: readonly number[], maxMs: number): HistogramResult {
	return {
		count: histogram.reduce((a, b) => a + b, 0),
		...histogramPercentiles(histogram, maxMs),
		maxMs,
		buckets: histogramBuckets(histogram),
	};
}
