/**
 * A slow request keeps its `requestId` on its CPU samples, so "CPU during this request" can find
 * them; the samples of the others merge per endpoint. The collector decides it when the profile
 * window the request ended in closes, and the dashboard offers the link only for requests that
 * pass the same rule: a link to samples that were never labelled would open an empty view.
 */

/** A request that took this long or longer is slow whatever its endpoint's p99. */
export const SLOW_REQUEST_MS = 500;

/**
 * Slow: `thresholdMs` or more, or at or above `p99Ms`, the p99 of its endpoint's requests (the
 * collector's: those of its process that ended in the same window) when that is known and above 0.
 */
export function isSlowRequest(latencyMs: number, p99Ms?: number | null, thresholdMs: number = SLOW_REQUEST_MS): boolean {
	return latencyMs >= thresholdMs || (p99Ms !== undefined && p99Ms !== null && p99Ms > 0 && latencyMs >= p99Ms);
}
