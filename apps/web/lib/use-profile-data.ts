'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import { fetchFlame, type FlameResult, type ProfileRequest } from './api.ts';

export interface ProfileData {
	result: FlameResult;
	request: ProfileRequest;
	fetchedAt: number;
}

export interface ProfileDataState {
	data: ProfileData | null;
	error: unknown;
	loading: boolean;
	reload(): void;
}

/** A first flame query started before the page rendered, for the hook to take over. */
let early: { key: string; request: ProfileRequest; result: Promise<FlameResult>; controller: AbortController; atMs: number } | null = null;
/** Older than this, an unclaimed early query is not used: its relative range has moved on. */
const EARLY_MAX_AGE_MS = 10_000;

/**
 * Starts the flame query `useProfileData(key, …)` will make first, before React renders: the
 * hook's first fetch under the same key takes it over instead of asking again.
 */
export function prefetchProfileData(key: string, request: ProfileRequest): void {
	early?.controller.abort();
	const controller = new AbortController();
	const result = fetchFlame(request, controller.signal);
	// Whoever takes it over sees a failure; unclaimed, it is no unhandled rejection.
	result.catch(() => undefined);
	early = { key, request, result, controller, atMs: Date.now() };
}

function takeEarly(key: string) {
	const taken = early;
	early = null;
	if (taken && taken.key === key && Date.now() - taken.atMs < EARLY_MAX_AGE_MS) return taken;
	taken?.controller.abort();
	return null;
}

/**
 * Fetches the merged profile whenever `key` changes (or `reload` is called). The previous result
 * stays on screen while the next one loads, so live refreshes do not flash an empty panel.
 */
export function useProfileData(key: string, makeRequest: () => ProfileRequest): ProfileDataState {
	const [data, setData] = useState<ProfileData | null>(null);
	const [error, setError] = useState<unknown>(null);
	const [loading, setLoading] = useState(true);
	const [generation, setGeneration] = useState(0);
	const makeRequestRef = useRef(makeRequest);
	makeRequestRef.current = makeRequest;

	useEffect(() => {
		const controller = new AbortController();
		const taken = takeEarly(key);
		if (taken) controller.signal.addEventListener('abort', () => taken.controller.abort());
		const request = taken ? taken.request : makeRequestRef.current();
		setLoading(true);
		(taken ? taken.result : fetchFlame(request, controller.signal)).then(
			(result) => {
				if (controller.signal.aborted) return;
				setData({ result, request, fetchedAt: Date.now() });
				setError(null);
				setLoading(false);
			},
			(failure: unknown) => {
				if (controller.signal.aborted) return;
				setError(failure);
				setLoading(false);
			},
		);
		return () => controller.abort();
	}, [key, generation]);

	const reload = useCallback(() => setGeneration((value) => value + 1), []);
	return { data, error, loading, reload };
}
