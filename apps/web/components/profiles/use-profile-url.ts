'use client';

import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useCallback, useMemo } from 'react';
import { parseProfileQuery, toSearchParams, type ProfileQueryState, type QueryWarning } from '../../lib/profile-query.ts';

export interface ProfileUrl {
	query: ProfileQueryState;
	/** Parameters of the current URL the page could not honour. */
	warnings: QueryWarning[];
	/** Writes the state with `patch` applied to the URL; it drops whatever the page ignored. */
	navigate(patch: Partial<ProfileQueryState>): void;
}

/** The page's state lives in the URL, so a copied link reproduces the same view. */
export function useProfileUrl(): ProfileUrl {
	const router = useRouter();
	const pathname = usePathname();
	const params = useSearchParams();
	const { state: query, warnings } = useMemo(() => parseProfileQuery(params), [params]);
	const navigate = useCallback(
		(patch: Partial<ProfileQueryState>) => {
			const next = toSearchParams({ ...query, ...patch }).toString();
			router.replace(next ? `${pathname}?${next}` : pathname, { scroll: false });
		},
		[query, router, pathname],
	);
	return { query, warnings, navigate };
}
