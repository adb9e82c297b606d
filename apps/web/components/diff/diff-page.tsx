'use client';

import { useRouter, useSearchParams } from 'next/navigation';
import { useCallback, useMemo } from 'react';
import { diffHref, diffQueryWarnings, diffViewParams, parseDiffQuery, parseDiffView, type DiffQueryState } from '../../lib/diff-query.ts';
import { PageHead } from '../common/page-head.tsx';
import { QueryWarnings } from '../profiles/query-warnings.tsx';
import { DiffView } from './diff-view.tsx';

/** `/diff`: both sides and the view in the URL. */
export function DiffPage() {
	const router = useRouter();
	const params = useSearchParams();
	const state = useMemo(() => parseDiffQuery(params), [params]);
	const warnings = useMemo(() => diffQueryWarnings(params), [params]);
	const navigate = useCallback(
		(patch: Partial<DiffQueryState>) => router.replace(diffHref({ ...state, ...patch }), { scroll: false }),
		[router, state],
	);
	return (
		<div className="page" data-testid="diff-page">
			<PageHead title="Diff">
				A baseline and a comparison: two ranges, processes, hosts or shares, each as a share of its own total
			</PageHead>
			<QueryWarnings warnings={warnings} onClean={() => navigate({})} />
			<DiffView state={state} navigate={navigate} />
		</div>
	);
}

/** `/s/BASE/diff/CMP`: a diff of two shares, read-only, the view in the URL. */
export function SharedDiffPage({ baselineId, comparisonId }: { baselineId: string; comparisonId: string }) {
	const router = useRouter();
	const params = useSearchParams();
	const state: DiffQueryState = useMemo(
		() => ({ ...parseDiffView(params), baseline: { kind: 'share', id: baselineId }, comparison: { kind: 'share', id: comparisonId } }),
		[params, baselineId, comparisonId],
	);
	const navigate = useCallback(
		(patch: Partial<DiffQueryState>) => {
			const query = diffViewParams({ ...state, ...patch }).toString();
			router.replace(`/s/${baselineId}/diff/${comparisonId}${query ? `?${query}` : ''}`, { scroll: false });
		},
		[router, state, baselineId, comparisonId],
	);
	return (
		<div className="page" data-testid="diff-page">
			<PageHead title="Shared diff">A baseline and a comparison snapshot, each as a share of its own total</PageHead>
			<DiffView state={state} navigate={navigate} shared />
		</div>
	);
}
