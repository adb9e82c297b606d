'use client';

import { useEffect, useRef, useState } from 'react';
import type { TimeRange } from '../../lib/profile-query.ts';

/** Live mode refetches at most this often, however fast windows arrive from many hosts. */
const LIVE_MIN_INTERVAL_MS = 2_000;

export interface LiveFollow {
	/** Whether new stored windows refetch the profile. */
	following: boolean;
	/** Counts up (throttled) as new windows arrive while following; part of the fetch key. */
	tick: number;
}

/**
 * Follows new profile windows over a relative range: when live mode is on, and also while the
 * profile is empty, so an empty page fills by itself once samples arrive.
 */
export function useLiveFollow(range: TimeRange, live: boolean, empty: boolean, windowSeq: number): LiveFollow {
	const [tick, setTick] = useState(0);
	const lastFetch = useRef(0);
	const following = range.kind === 'relative' && (live || empty);
	useEffect(() => {
		if (!following || windowSeq === 0) return;
		const wait = Math.max(0, lastFetch.current + LIVE_MIN_INTERVAL_MS - Date.now());
		const timer = setTimeout(() => {
			lastFetch.current = Date.now();
			setTick((value) => value + 1);
		}, wait);
		return () => clearTimeout(timer);
	}, [following, windowSeq]);
	return { following, tick };
}
