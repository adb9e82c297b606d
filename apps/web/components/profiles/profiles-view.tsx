'use client';

import { useEffect, useMemo, useState } from 'react';
import { describeError } from '../../lib/api.ts';
import { isSelected } from '../../lib/host-selection.ts';
import { emptyProfileReason, type PidLookup } from '../../lib/empty-profile-reason.ts';
import { findNode, graftSubtree } from '@firesight/profile';
import { combinedShare, searchShare } from '../../lib/flame-search.ts';
import { useSearchCount, useSubtree } from '../../lib/use-flame-zoom.ts';
import { processRows } from '../../lib/live-store.ts';
import { parseProfileQuery, pprofHref, resolveRange, TABLE_SORT_COLUMNS } from '../../lib/profile-query.ts';
import { sandwichHref } from '../../lib/sandwich-links.ts';
import { defaultDiffView, diffHref } from '../../lib/diff-query.ts';
import { useDebounced } from '../../lib/use-debounced.ts';
import { useProcessLookup } from '../../lib/use-process-lookup.ts';
import { flameKey, flameRequest } from '../../lib/flame-request.ts';
import { prefetchProfileData, useProfileData } from '../../lib/use-profile-data.ts';
import { EmptyState } from '../common/empty-state.tsx';
import { PageHead } from '../common/page-head.tsx';
import { useLive } from '../live/live-provider.tsx';
import { EmptyProfile } from './empty-profile.tsx';
import { ProfilerWarmUpNotice } from './profiler-warm-up.tsx';
import { profilerWarmUps } from '../../lib/profiler-warm-up.ts';
import { ProfilePanels } from './profile-panels.tsx';
import { CpuTimeline } from './cpu-timeline.tsx';
import { NodePerfMapHint } from './node-perf-map-hint.tsx';
import { ProfileSummary } from './profile-summary.tsx';
import { QueryBar } from './query-bar.tsx';
import { QueryWarnings } from './query-warnings.tsx';
import { useLiveFollow } from './use-live-follow.ts';
import { useProfileUrl } from './use-profile-url.ts';
import { ViewToolbar } from './view-toolbar.tsx';

// The first flame query leaves as soon as this script runs rather than after the page has
// hydrated and run its effects, a few hundred ms later on a busy machine: the URL says what it is.
if (typeof window !== 'undefined' && window.location.pathname.replace(/\/+$/, '') === '/profiles') {
	const { state } = parseProfileQuery(new URLSearchParams(window.location.search));
	prefetchProfileData(flameKey(state, 0), flameRequest(state, Date.now()));
}

export function ProfilesView() {
	const { query, warnings, navigate } = useProfileUrl();
	const live = useLive();

	// The search highlights at once; the URL follows after a pause in typing.
	const [search, setSearch] = useState(query.search);
	const debouncedSearch = useDebounced(search, 400);
	useEffect(() => {
		if (debouncedSearch !== query.search) navigate({ search: debouncedSearch });
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [debouncedSearch]);

	const [empty, setEmpty] = useState(false);
	const follow = useLiveFollow(query.range, query.live, empty, live.windowSeq);
	const key = flameKey(query, follow.following ? follow.tick : 0);
	const { data, error, loading, reload } = useProfileData(key, () => flameRequest(query, Date.now()));
	const result = data?.result ?? null;
	const total = result?.totalSamples ?? 0;
	useEffect(() => setEmpty(result !== null && result.totalSamples === 0), [result]);

	// Zoomed in, the hub sends the zoomed frame's subtree at full resolution; it replaces that
	// node of the pruned tree, so ancestors and siblings stay drawn around it.
	const subtree = useSubtree(data?.request ?? null, query.zoom);
	const shown = useMemo(() => {
		if (!result || !subtree?.tree || !query.zoom) return result;
		return { ...result, tree: graftSubtree(result.tree, query.zoom, subtree.tree) };
	}, [result, subtree, query.zoom]);
	// The share is the hub's count over every sample (in the zoomed node when zoomed): frames
	// merged into remainders count too, so it matches the table. The drawn matches say how much
	// of it the graph highlights.
	const counted = useSearchCount(data?.request ?? null, debouncedSearch, query.zoom);
	const share = useMemo(() => {
		if (!shown || !search.trim()) return null;
		const zoomNode = query.zoom && query.zoom.length > 0 ? findNode(shown.tree, query.zoom) : null;
		const scope = zoomNode ? { name: '', value: zoomNode.value, children: [zoomNode] } : shown.tree;
		const drawn = searchShare(scope, search);
		return counted ? combinedShare(counted, drawn, zoomNode ? zoomNode.name : null) : drawn;
	}, [shown, search, counted, query.zoom]);
	const rows = useMemo(() => processRows(live.processes, Date.now(), 60_000), [live.processes]);
	const liveProcess = query.pid === null ? undefined : rows.find((row) => row.pid === query.pid && isSelected(query.hosts, row.host));
	const lookup = useProcessLookup(query.pid, query.hosts, result !== null && total === 0, key);
	const pidLookup: PidLookup | null =
		lookup === null
			? null
			: 'live' in lookup
				? { known: true, live: lookup.live, host: lookup.host, comm: lookup.comm, lastMs: lookup.lastMs }
				: { known: false };
	const request = data?.request;
	const range = request ?? resolveRange(query.range, Date.now());
	const connectedCollectors = live.status ? live.status.hosts.filter((host) => host.connected).length : null;
	const warmUps = useMemo(() => profilerWarmUps(live.status?.hosts, query.hosts), [live.status, query.hosts]);

	let body;
	if (error && !data) {
		body = (
			<section className="panel">
				<EmptyState
					tone="error"
					testId="profile-error"
					title="Could not load the profile"
					detail={describeError(error)}
					action={{ label: 'Retry', onClick: reload }}
				/>
			</section>
		);
	} else if (!result) {
		body = (
			<section className="panel">
				<div className="empty-state" data-testid="profile-loading">
					<span>
						<span className="spinner" />
						Merging profile windows…
					</span>
				</div>
			</section>
		);
	} else if (total === 0) {
		const reason = emptyProfileReason({ query, liveProcess, lookup: pidLookup, connectedCollectors, warmUps });
		body = (
			<section className="panel">
				<EmptyProfile reason={reason} range={range} navigate={navigate} />
			</section>
		);
	} else {
		body = (
			<ProfilePanels
				result={shown ?? result}
				view={query.view}
				orientation={query.orientation}
				onOrientation={(orientation) => navigate({ orientation })}
				search={search}
				onSearch={setSearch}
				// Zoom and table order live in the URL too, so Share and a copied link keep them.
				zoomPath={query.zoom}
				onZoomPath={(zoom) => navigate({ zoom: zoom ?? [] })}
				sort={query.sort}
				onSort={(sort) => {
					const columnId = TABLE_SORT_COLUMNS.find((c) => c === sort.columnId);
					if (columnId) navigate({ sort: { columnId, direction: sort.direction } });
				}}
				sandwichHref={(name) => sandwichHref({ name }, query)}
				colorMode={query.color ?? 'kind'}
			/>
		);
	}

	// A diff side names one host or every host.
	const diffHost = query.hosts.length === 1 ? (query.hosts[0] ?? '') : '';
	return (
		<div className="page">
			<PageHead title="Profiles">
				CPU samples merged over a time range, by call stack ·{' '}
				<a
					href={diffHref({
						...defaultDiffView,
						baseline: { kind: 'query', range: query.range, pid: query.pid, comm: query.comm, host: diffHost },
						comparison: { kind: 'query', range: query.range, pid: query.pid, comm: query.comm, host: diffHost },
					})}
					data-testid="profiles-compare"
				>
					Compare with another range, process or host
				</a>
			</PageHead>

			<section className="panel" aria-label="Query">
				<QueryBar
					query={query}
					navigate={navigate}
					loading={loading}
					onRefresh={reload}
					pprofHref={pprofHref(request ?? { ...range, pid: query.pid, comm: query.comm, endpoint: query.endpoint, hosts: query.hosts })}
				/>
				<QueryWarnings warnings={warnings} onClean={() => navigate({})} />
				{total > 0 && query.range.kind !== 'absolute' && <ProfilerWarmUpNotice warmUps={warmUps} />}
				<ProfileSummary data={data} error={error} liveProcess={liveProcess} following={follow.following} />
			</section>

			<CpuTimeline
				filter={{
					...range,
					pid: query.pid,
					comm: query.comm,
					endpoint: query.endpoint,
					host: query.hosts.length === 0 ? undefined : query.hosts.length === 1 ? query.hosts[0] : [...query.hosts],
				}}
				fetchKey={key}
				onRange={({ from, to }) => navigate({ range: { kind: 'absolute', from, to }, live: false })}
			/>

			{result && total > 0 && (
				<ViewToolbar
					view={query.view}
					onView={(view) => navigate({ view })}
					search={search}
					onSearch={setSearch}
					share={share}
					colorMode={query.color ?? 'kind'}
					onColorMode={(color) => navigate({ color })}
					groupByProcess={query.groupByProcess === true}
					onGroupByProcess={(on) => navigate({ groupByProcess: on })}
					groupByEndpoint={query.groupByEndpoint === true}
					onGroupByEndpoint={(on) => navigate({ groupByEndpoint: on })}
				/>
			)}

			{result && total > 0 && <NodePerfMapHint tree={result.tree} />}

			{body}
		</div>
	);
}
