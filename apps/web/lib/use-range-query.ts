import { useEffect, useState } from 'react';
import { describeError } from './api.ts';
import { resolveRange, type TimeRange } from './profile-query.ts';

/** A relative range refetches this often: stored windows arrive every 10 s by default. */
const REFRESH_MS = 5_000;

/** Counts up every REFRESH_MS while the range is relative (its end moves with the clock). */
export function useRefreshTick(range: TimeRange): number {
	const [tick, setTick] = useState(0);
	useEffect(() => {
		if (range.kind !== 'relative') return;
		const timer = setInterval(() => setTick((n) => n + 1), REFRESH_MS);
		return () => clearInterval(timer);
	}, [range]);
	return tick;
}

/**
 * Runs `query` over the range whenever `range`, `tick` or `key` changes, aborting the previous
 * call; keeps the last result while the next one loads. A null `key` skips the query and clears
 * the data. `query` is read through the key: a new closure alone does not refetch.
 */
export function useRangeQuery<T>(
	range: TimeRange,
	tick: number,
	key: string | null,
	query: (fromMs: number, toMs: number, signal: AbortSignal) => Promise<T>,
): { data: T | null; error: string | null } {
	const [data, setData] = useState<T | null>(null);
	const [error, setError] = useState<string | null>(null);
	useEffect(() => {
		if (key === null) {
			setData(null);
			return;
		}
		const controller = new AbortController();
		const { from, to } = resolveRange(range, Date.now());
		query(from, to, controller.signal)
			.then((result) => {
				setData(result);
				setError(null);
			})
			.catch((err: unknown) => {
				if (!controller.signal.aborted) setError(describeError(err));
			});
		return () => controller.abort();
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [range, tick, key]);
	return { data, error };
}
