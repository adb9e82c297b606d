'use client';

import { useRouter, useSearchParams } from 'next/navigation';
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ShareFlameResult } from '@firesight/api';
import { api, describeError } from '../../lib/api.ts';
import { searchShare } from '../../lib/flame-search.ts';
import {
	defaultProfileQuery,
	parseProfileQuery,
	TABLE_SORT_COLUMNS,
	toSearchParams,
	type ProfileQueryState,
} from '../../lib/profile-query.ts';
import { shareDownloadHref, shareHref, VIEW_PARAMS, viewStateOf } from '../../lib/share-links.ts';
import { shareSandwichHref } from '../../lib/sandwich-links.ts';
import { defaultDiffView, defaultSide, diffHref } from '../../lib/diff-query.ts';
import { useDebounced } from '../../lib/use-debounced.ts';
import { EmptyState } from '../common/empty-state.tsx';
import { PageHead } from '../common/page-head.tsx';
import { ProfilePanels } from '../profiles/profile-panels.tsx';
import { ViewToolbar } from '../profiles/view-toolbar.tsx';
import { CopyLink } from './copy-link.tsx';
import { ShareSource } from './share-source.tsx';

type ViewState = Pick<ProfileQueryState, 'view' | 'orientation' | 'search' | 'zoom' | 'sort'>;

/** A share, read-only: the Profiles page's panels over the snapshot, the view in the URL. */
export function ShareView({ id }: { id: string }) {
	const router = useRouter();
	const params = useSearchParams();
	const view: ViewState = useMemo(() => {
		const { state } = parseProfileQuery(params);
		return { view: state.view, orientation: state.orientation, search: state.search, zoom: state.zoom, sort: state.sort };
	}, [params]);
	const navigate = useCallback(
		(patch: Partial<ViewState>) => {
			const next = viewStateOf(toSearchParams({ ...defaultProfileQuery, ...view, ...patch }));
			router.replace(shareHref(id, next), { scroll: false });
		},
		[id, router, view],
	);

	const [result, setResult] = useState<ShareFlameResult | null>(null);
	const [error, setError] = useState<unknown>(null);
	const [deleted, setDeleted] = useState(false);
	const [deleteError, setDeleteError] = useState<string | null>(null);
	useEffect(() => {
		const controller = new AbortController();
		const minFraction = 1 / Math.max(1200, window.innerWidth);
		api.shares.flame.query({ id, minFraction }, { signal: controller.signal }).then(
			(answer) => {
				setResult(answer);
				// A bare link opens the view the share was made with.
				const current = new URLSearchParams(window.location.search);
				if (answer.share.viewState && !VIEW_PARAMS.some((name) => current.has(name))) {
					router.replace(shareHref(id, viewStateOf(new URLSearchParams(answer.share.viewState))), { scroll: false });
				}
			},
			(failure: unknown) => !controller.signal.aborted && setError(failure),
		);
		return () => controller.abort();
	}, [id, router]);

	const [search, setSearch] = useState(view.search);
	useEffect(() => setSearch(view.search), [view.search]);
	const debouncedSearch = useDebounced(search, 400);
	useEffect(() => {
		if (debouncedSearch !== view.search) navigate({ search: debouncedSearch });
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [debouncedSearch]);
	const share = useMemo(() => (result && search.trim() ? searchShare(result.tree, search) : null), [result, search]);

	const remove = async () => {
		if (!window.confirm('Delete this share? Its link stops working for everyone.')) return;
		try {
			await api.shares.delete.mutate({ id });
			setDeleted(true);
		} catch (failure) {
			setDeleteError(describeError(failure));
		}
	};

	if (deleted) {
		return (
			<div className="page">
				<EmptyState title="Share deleted" detail="Its link no longer opens anything." testId="share-deleted" />
			</div>
		);
	}
	return (
		<div className="page" data-testid="share-view">
			<PageHead title="Shared profile">A snapshot of a CPU profile: it does not change as new samples arrive</PageHead>
			<section className="panel" aria-label="Share">
				<div className="query-bar">
					{result ? <ShareSource share={result.share} /> : <span className="toolbar-note">Loading the share…</span>}
					<div className="spacer" />
					<CopyLink path={shareHref(id, viewStateOf(params))} />
					<a
						className="button"
						href={diffHref({ ...defaultDiffView, baseline: { kind: 'share', id }, comparison: defaultSide })}
						data-testid="share-compare"
						title="Diff this share against a range, a process, a host or another share"
					>
						Compare
					</a>
					<a
						className="button"
						href={shareDownloadHref(id, 'pprof')}
						download
						data-testid="share-download-pprof"
						title="pprof, for go tool pprof or any pprof viewer"
					>
						Download pprof
					</a>
					<a
						className="button"
						href={shareDownloadHref(id, 'folded')}
						download
						data-testid="share-download-folded"
						title="Folded stacks, for flamegraph.pl, speedscope or inferno"
					>
						Folded
					</a>
					<button
						type="button"
						className="button"
						onClick={remove}
						data-testid="share-delete"
						title="Delete the share (needs a login when the hub asks for one)"
					>
						Delete
					</button>
				</div>
				{deleteError && (
					<p className="empty-detail" role="alert" data-testid="share-delete-error">
						Could not delete: {deleteError}
					</p>
				)}
			</section>
			{error !== null && !result ? (
				<section className="panel">
					<EmptyState tone="error" testId="share-error" title="Could not load the share" detail={describeError(error)} />
				</section>
			) : result ? (
				<>
					<ViewToolbar view={view.view} onView={(next) => navigate({ view: next })} search={search} onSearch={setSearch} share={share} />
					<ProfilePanels
						result={result}
						view={view.view}
						orientation={view.orientation}
						onOrientation={(orientation) => navigate({ orientation })}
						search={search}
						onSearch={setSearch}
						zoomPath={view.zoom}
						onZoomPath={(path) => navigate({ zoom: path ?? [] })}
						sort={view.sort}
						onSort={(sort) => {
							const columnId = TABLE_SORT_COLUMNS.find((c) => c === sort.columnId);
							if (columnId) navigate({ sort: { columnId, direction: sort.direction } });
						}}
						sandwichHref={(name) => shareSandwichHref(id, { name })}
					/>
				</>
			) : (
				<section className="panel">
					<div className="empty-state" data-testid="profile-loading">
						<span>
							<span className="spinner" />
							Loading…
						</span>
					</div>
				</section>
			)}
		</div>
	);
}
