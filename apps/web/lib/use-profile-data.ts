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
		const request = makeRequestRef.current();
		setLoading(true);
		fetchFlame(request, controller.signal).then(
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
