'use client';

import { useEffect, useState } from 'react';
import type { FlameSearchResult, FlameSubtree } from '@firesight/api';
import { api, filterInput, type ProfileRequest } from './api.ts';

function rangeInput(request: ProfileRequest) {
	return {
		fromMs: request.from,
		toMs: request.to,
		...filterInput(request),
		...(request.groupByProcess ? { groupByProcess: true } : {}),
		...(request.groupByEndpoint ? { groupByEndpoint: true } : {}),
	};
}

function samePath(a: readonly string[] | null | undefined, b: readonly string[] | null | undefined): boolean {
	return (a ?? []).join('\u0000') === (b ?? []).join('\u0000');
}

/**
 * The zoomed frame's subtree at full resolution, asked of the hub for the same merged range as
 * the graph (`request`), so the two add up. Null while not zoomed or until it arrives; a failed
 * fetch leaves the pruned tree on screen.
 */
export function useSubtree(request: ProfileRequest | null, path: readonly string[] | undefined): FlameSubtree | null {
	const [subtree, setSubtree] = useState<{ of: ProfileRequest; result: FlameSubtree } | null>(null);
	const key = path && path.length > 0 ? path.join('\u0000') : null;
	useEffect(() => {
		if (!request || !path || path.length === 0) {
			setSubtree(null);
			return;
		}
		const controller = new AbortController();
		api.profile.subtree
			.query({ ...rangeInput(request), path: [...path], minFraction: request.minFraction }, { signal: controller.signal })
			.then(
				(result) => {
					if (!controller.signal.aborted) setSubtree({ of: request, result });
				},
				() => {},
			);
		return () => controller.abort();
		// The path is read through its key: a new array with the same names does not refetch.
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [request, key]);
	// Only the answer for this very range: grafted into another merge, widths would not add up.
	return subtree && subtree.of === request && samePath(subtree.result.path, path) ? subtree.result : null;
}

/**
 * What a search matches, counted by the hub on every sample of the range (not the pruned tree),
 * relative to the zoomed node when `path` is set. Null while there is no term or no answer for
 * this term and path yet.
 */
export function useSearchCount(
	request: ProfileRequest | null,
	term: string,
	path: readonly string[] | undefined,
): (FlameSearchResult & { term: string }) | null {
	const [count, setCount] = useState<(FlameSearchResult & { term: string }) | null>(null);
	const trimmed = term.trim();
	const key = path && path.length > 0 ? path.join('\u0000') : null;
	useEffect(() => {
		if (!request || !trimmed) {
			setCount(null);
			return;
		}
		const controller = new AbortController();
		const scope = path && path.length > 0 ? { path: [...path] } : {};
		api.profile.search.query({ ...rangeInput(request), term: trimmed, ...scope }, { signal: controller.signal }).then(
			(result) => {
				if (!controller.signal.aborted) setCount({ ...result, term: trimmed });
			},
			() => {},
		);
		return () => controller.abort();
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [request, trimmed, key]);
	if (!count || count.term !== trimmed || !samePath(count.path, path && path.length > 0 ? path : null)) return null;
	return count;
}
