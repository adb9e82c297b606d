import { REQUEST_LATENCY_BUCKETS } from '@firesight/protocol';

/** Bucket i of the log2 latency histogram holds [2^i, 2^(i+1)) µs; bucket 0 also holds < 1 µs. */
export function bucketBoundsMs(i: number): { lowMs: number; highMs: number } {
	return { lowMs: i === 0 ? 0 : 2 ** i / 1000, highMs: 2 ** (i + 1) / 1000 };
}

export function emptyHistogram(): number[] {
	return new Array<number>(REQUEST_LATENCY_BUCKETS).fill(0);
}

/** Adds `from` into `into`, bucket by bucket. */
export function addHistogram(into: number[], from: readonly number[]): void {
	for (let i = 0; i < into.length; i++) into[i]! += from[i] ?? 0;
}

/**
 * The q-quantile of a log2 histogram, interpolated linearly inside the bucket that holds it,
 * capped at `maxMs` (the largest latency seen) so the top bucket does not overstate it.
 * 0 for an empty histogram.
 */
export function histogramQuantile(histogram: readonly number[], q: number, maxMs = Infinity): number {
	const total = histogram.reduce((a, b) => a + b, 0);
	if (total === 0) return 0;
	const rank = Math.max(1, Math.ceil(q * total));
	let seen = 0;
	for (let i = 0; i < histogram.length; i++) {
		const n = histogram[i]!;
		if (n === 0) continue;
		if (seen + n >= rank) {
			const { lowMs, highMs } = bucketBoundsMs(i);
			const value = lowMs + ((rank - seen) / n) * (highMs - lowMs);
			return Math.min(value, maxMs);
		}
		seen += n;
	}
	return Math.min(bucketBoundsMs(histogram.length - 1).highMs, maxMs);
}
