/** One point of the CPU-over-time chart: a bucket's start and its samples per second. */
export interface TimelinePoint {
	t: number;
	samplesPerSec: number;
	samples: number;
}

/** Buckets as the hub sends them, turned into points a time axis can place. */
export function timelinePoints(timeline: { fromMs: number; bucketMs: number; samples: readonly number[] }): TimelinePoint[] {
	const seconds = timeline.bucketMs / 1000;
	return timeline.samples.map((samples, i) => ({ t: timeline.fromMs + i * timeline.bucketMs, samples, samplesPerSec: samples / seconds }));
}

/**
 * The range a drag over the chart selects: from the earlier bucket's start to the end of the later
 * one, whichever way the mouse moved, inside the shown range. Null for a click (one bucket) or an
 * incomplete drag, so a click does not narrow the range by accident.
 */
export function brushRange(
	a: number | undefined,
	b: number | undefined,
	bucketMs: number,
	shown: { from: number; to: number },
): { from: number; to: number } | null {
	if (a === undefined || b === undefined || a === b) return null;
	const from = Math.max(shown.from, Math.min(a, b));
	const to = Math.min(shown.to, Math.max(a, b) + bucketMs);
	return from < to ? { from, to } : null;
}
