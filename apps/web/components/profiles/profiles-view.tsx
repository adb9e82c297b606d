'use client';

import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { describeError } from '../../lib/api.ts';
import { searchShare } from '../../lib/flame-search.ts';
import { formatClock, formatDateTime, formatInt, formatPercent } from '../../lib/format.ts';
import { processRows } from '../../lib/live-store.ts';
import {
	parsePid,
	parseProfileQuery,
	pprofHref,
	resolveRange,
	toSearchParams,
	type ProfileQueryState,
} from '../../lib/profile-query.ts';
import { useProcessLookup } from '../../lib/use-process-lookup.ts';
import { useProfileData } from '../../lib/use-profile-data.ts';
import { EmptyState } from '../common/empty-state.tsx';
import { PageHead } from '../common/page-head.tsx';
import { useLive } from '../live/live-provider.tsx';
import { FlameGraph, FlameLegend } from './flame-graph.tsx';
import { TimeRangePicker } from './time-range-picker.tsx';
import { TopFunctionsTable } from './top-functions-table.tsx';

/** Live mode refetches at most this often, however fast windows arrive from many hosts. */
const LIVE_MIN_INTERVAL_MS = 2_000;

function useDebounced<T>(value: T, ms: number): T {
	const [debounced, setDebounced] = useState(value);
	useEffect(() => {
		const timer = setTimeout(() => setDebounced(value), ms);
		return () => clearTimeout(timer);
	}, [value, ms]);
	return debounced;
}

export function ProfilesView() {
	const router = useRouter();
	const pathname = usePathname();
	const params = useSearchParams();
	const query = useMemo(() => parseProfileQuery(params), [params]);
	const live = useLive();

	const navigate = useCallback(
		(patch: Partial<ProfileQueryState>) => {
			const next = toSearchParams({ ...query, ...patch }).toString();
			router.replace(next ? `${pathname}?${next}` : pathname, { scroll: false });
		},
		[query, router, pathname],
	);

	// Text inputs apply after a pause in typing, so each keystroke does not refetch.
	const [pidDraft, setPidDraft] = useState(query.pid === null ? '' : String(query.pid));
	const [commDraft, setCommDraft] = useState(query.comm);
	const [search, setSearch] = useState(query.search);
	const pidValid = pidDraft.trim() === '' || parsePid(pidDraft) !== null;
	const debouncedPid = useDebounced(pidDraft, 500);
	const debouncedComm = useDebounced(commDraft, 500);
	const debouncedSearch = useDebounced(search, 400);
	useEffect(() => setPidDraft(query.pid === null ? '' : String(query.pid)), [query.pid]);
	useEffect(() => setCommDraft(query.comm), [query.comm]);
	useEffect(() => {
		const pid = debouncedPid.trim() === '' ? null : parsePid(debouncedPid);
		if (debouncedPid.trim() !== '' && pid === null) return;
		if (pid !== query.pid || debouncedComm.trim() !== query.comm) navigate({ pid, comm: debouncedComm.trim() });
		// Only typing should trigger this, not URL changes made elsewhere.
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [debouncedPid, debouncedComm]);
	useEffect(() => {
		if (debouncedSearch !== query.search) navigate({ search: debouncedSearch });
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [debouncedSearch]);

	// The URL updates asynchronously; the checkbox answers the click at once.
	const [liveChecked, setLiveChecked] = useState(query.live);
	useEffect(() => setLiveChecked(query.live), [query.live]);

	// Live refresh: a new stored window bumps the key, throttled.
	const [liveTick, setLiveTick] = useState(0);
	const lastLiveFetch = useRef(0);
	const [hasData, setHasData] = useState(true);
	const following = query.range.kind === 'relative' && (query.live || !hasData);
	useEffect(() => {
		if (!following || live.windowSeq === 0) return;
		const wait = Math.max(0, lastLiveFetch.current + LIVE_MIN_INTERVAL_MS - Date.now());
		const timer = setTimeout(() => {
			lastLiveFetch.current = Date.now();
			setLiveTick((tick) => tick + 1);
		}, wait);
		return () => clearTimeout(timer);
	}, [following, live.windowSeq]);

	const rangeKey = query.range.kind === 'absolute' ? `${query.range.from}-${query.range.to}` : query.range.preset;
	const key = `${rangeKey}|${query.pid}|${query.comm}|${query.host}|${following ? liveTick : 0}`;
	const { data, error, loading, reload } = useProfileData(key, () => {
		const { from, to } = resolveRange(query.range, Date.now());
		// One pixel of a wide screen: narrower frames cannot be seen, the hub drops them.
		const minFraction = 1 / Math.max(1200, typeof window === 'undefined' ? 1200 : window.innerWidth);
		return { from, to, pid: query.pid, comm: query.comm, host: query.host, minFraction };
	});
	const result = data?.result ?? null;
	const total = result?.totalSamples ?? 0;
	useEffect(() => {
		if (data) setHasData(data.result.totalSamples > 0);
	}, [data]);

	const share = useMemo(() => (result && search.trim() ? searchShare(result.tree, search) : null), [result, search]);
	const [zoomed, setZoomed] = useState<string | null>(null);
	const [resetKey, setResetKey] = useState(0);

	const rows = useMemo(() => processRows(live.hosts, Date.now(), 60_000), [live.hosts]);
	const liveProcess = query.pid === null ? undefined : rows.find((row) => row.pid === query.pid && (!query.host || row.host === query.host));
	const lookup = useProcessLookup(query.pid, query.host, result !== null && total === 0, key);
	const request = data?.request;
	const pprof = request ? pprofHref(request) : pprofHref({ ...resolveRange(query.range, Date.now()), pid: query.pid, comm: query.comm, host: query.host });

	let body;
	if (error && !data) {
		body = (
			<section className="panel">
				<EmptyState tone="error" testId="profile-error" title="Could not load the profile" detail={describeError(error)} action={{ label: 'Retry', onClick: reload }} />
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
		body = <section className="panel">{emptyProfile()}</section>;
	} else {
		const showTable = query.view !== 'graph';
		const showGraph = query.view !== 'table';
		body = (
			<div className={`profile-body view-${query.view}`}>
				{showTable && (
					<section className="panel table-panel" aria-label="Top functions">
						<div className="panel-head">
							<span className="panel-title">Top functions</span>
							<span className="toolbar-note">{formatInt(result.functions)} functions · click one to find it in the graph</span>
						</div>
						<TopFunctionsTable
							functions={result.topFunctions}
							totalSamples={total}
							search={search}
							onSelect={(name) => {
								setSearch(name === search ? '' : name);
							}}
						/>
					</section>
				)}
				{showGraph && (
					<section className="panel graph-panel" aria-label="Flame graph">
						<div className="panel-head">
							<span className="panel-title">{query.orientation === 'icicle' ? 'Icicle graph' : 'Flame graph'}</span>
							<FlameLegend />
							<div className="custom-range">
								{zoomed && (
									<span className="toolbar-note ellipsis" style={{ maxWidth: 220 }} title={zoomed}>
										Zoomed: <span className="mono">{zoomed}</span>
									</span>
								)}
								<button type="button" className="button button-small" disabled={!zoomed} onClick={() => setResetKey((value) => value + 1)} data-testid="flame-reset">
									Reset zoom
								</button>
								<div className="segmented" role="group" aria-label="Orientation">
									<button type="button" aria-pressed={query.orientation === 'icicle'} onClick={() => navigate({ orientation: 'icicle' })} data-testid="orientation-icicle" title="Root at the top (icicle)">
										Icicle
									</button>
									<button type="button" aria-pressed={query.orientation === 'flame'} onClick={() => navigate({ orientation: 'flame' })} data-testid="orientation-flame" title="Root at the bottom (flame)">
										Flame
									</button>
								</div>
							</div>
						</div>
						<FlameGraph root={result.tree} orientation={query.orientation} search={search} resetKey={resetKey} onZoomChange={setZoomed} />
					</section>
				)}
			</div>
		);
	}

	function emptyProfile() {
		const range = data?.request ?? resolveRange(query.range, Date.now());
		const hosts = live.status?.hosts ?? [];
		const rangeText = `between ${formatDateTime(range.from)} and ${formatDateTime(range.to)}`;
		const running = liveProcess ?? (lookup?.known && lookup.live ? lookup : undefined);
		if (query.pid !== null && running) {
			return (
				<EmptyState
					testId="profile-empty"
					title={`Waiting for samples of ${running.comm} (PID ${query.pid})`}
					detail={`The process is running but no profile window with its samples has been stored ${rangeText} yet. It may be idle; the collector sends windows every few seconds and this page updates by itself.`}
				>
					<span className="toolbar-note">
						<span className="spinner" />
						following new windows
					</span>
				</EmptyState>
			);
		}
		if (query.pid !== null && lookup?.known && !lookup.live) {
			const lastMs = lookup.lastMs;
			return (
				<EmptyState testId="profile-empty" title={`${lookup.comm} (PID ${query.pid}) has no samples in this range`} detail={`It was last seen on ${lookup.host} at ${formatDateTime(lastMs)} and is no longer running.`}>
					<button type="button" className="button" onClick={() => navigate({ range: { kind: 'absolute', from: lastMs - 5 * 60_000, to: lastMs + 60_000 }, live: false })}>
						Show the 5 minutes before it was last seen
					</button>
				</EmptyState>
			);
		}
		if (query.pid !== null && (lookup?.known === false || lookup === null)) {
			return (
				<EmptyState
					testId="profile-empty"
					title={lookup ? `Unknown PID ${query.pid}` : `No samples of PID ${query.pid}`}
					detail={`${lookup ? `No process with PID ${query.pid} has been seen on any host.` : `PID ${query.pid} is not in the live process table and has no samples ${rangeText}.`} It may have exited before it was sampled, or the PID is mistyped.`}
				>
					<div className="custom-range">
						<Link className="button" href="/">
							Pick a process
						</Link>
						{query.range.kind === 'relative' && query.range.preset !== '1h' && (
							<button type="button" className="button" onClick={() => navigate({ range: { kind: 'relative', preset: '1h' } })}>
								Look at the last hour
							</button>
						)}
					</div>
				</EmptyState>
			);
		}
		if (hosts.length === 0 && live.everConnected && query.pid === null && !query.comm) {
			return <EmptyState testId="profile-empty" title="No profiles yet" detail="No collector is connected to the hub. Is the collector running? Start one with `firesight up` (or `npm start`) on the host you want to profile." />;
		}
		if (query.pid !== null || query.comm || query.host) {
			return (
				<EmptyState testId="profile-empty" title="No samples match these filters" detail={`Nothing ${query.comm ? `named “${query.comm}” ` : ''}was sampled ${rangeText}. Widen the time range or clear the filters.`}>
					<div className="custom-range">
						<button type="button" className="button" onClick={() => navigate({ pid: null, comm: '', host: '' })}>
							Clear filters
						</button>
					</div>
				</EmptyState>
			);
		}
		return (
			<EmptyState
				testId="profile-empty"
				title="No samples in this range"
				detail={
					query.range.kind === 'absolute'
						? `Nothing was sampled ${rangeText}. Pick a range when the collector was running.`
						: `Nothing was sampled ${rangeText} yet. Is the collector running? Profiles arrive every few seconds; this page updates by itself.`
				}
			/>
		);
	}

	return (
		<div className="page">
			<PageHead title="Profiles">CPU samples merged over a time range, by call stack</PageHead>

			<section className="panel" aria-label="Query">
				<div className="query-bar">
					<TimeRangePicker range={query.range} onChange={(range) => navigate({ range, live: range.kind === 'relative' && query.live })} />
					<label className="field">
						<span className="field-label">PID</span>
						<input className={`input pid-input ${pidValid ? '' : 'invalid'}`} inputMode="numeric" placeholder="any" value={pidDraft} onChange={(event) => setPidDraft(event.target.value)} onKeyDown={(event) => event.key === 'Enter' && pidValid && navigate({ pid: parsePid(pidDraft) })} data-testid="filter-pid" />
					</label>
					<label className="field">
						<span className="field-label">Command</span>
						<input className="input comm-input" placeholder="any" value={commDraft} onChange={(event) => setCommDraft(event.target.value)} onKeyDown={(event) => event.key === 'Enter' && navigate({ comm: commDraft.trim() })} data-testid="filter-comm" />
					</label>
					<label className="toggle" title={query.range.kind === 'absolute' ? 'Live mode follows relative ranges only' : 'Refetch as new profile windows arrive'}>
						<input
							type="checkbox"
							checked={liveChecked}
							disabled={query.range.kind === 'absolute'}
							onChange={(event) => {
								setLiveChecked(event.target.checked);
								navigate({ live: event.target.checked });
							}}
							data-testid="live-toggle"
						/>
						Live
						{liveChecked && <span className="live-dot" aria-label="following" />}
					</label>
					<div className="spacer" />
					<button type="button" className="button" onClick={reload} title="Fetch the range again" data-testid="refresh">
						{loading ? <span className="spinner" /> : '↻'} Refresh
					</button>
					<a className="button" href={pprof} download data-testid="download-pprof" title="The merged profile in pprof format, for go tool pprof or any pprof viewer">
						Download pprof
					</a>
				</div>
				<div className="profile-summary" data-testid="profile-summary">
					{result ? (
						<>
							<span>
								<strong data-testid="total-samples">{formatInt(total)}</strong> samples
							</span>
							<span>
								<strong>{formatInt(result.windows)}</strong> windows
							</span>
							{request && (
								<span>
									{formatDateTime(request.from)} – {formatDateTime(request.to)}
								</span>
							)}
							{result.prunedNodes > 0 && <span title="Frames narrower than a pixel are merged into their parent on the hub">{formatInt(result.prunedNodes)} frames under a pixel wide hidden</span>}
						</>
					) : (
						<span>{error ? 'No data' : 'Loading…'}</span>
					)}
					{liveProcess && (
						<span className="chip" title={liveProcess.cmdline}>
							<span className="mono strong">{liveProcess.comm}</span>
							<span className="mono dim ellipsis" style={{ maxWidth: 360 }}>
								{liveProcess.cmdline}
							</span>
						</span>
					)}
					{data && following && <span className="toolbar-note">updated {formatClock(data.fetchedAt)}</span>}
					{error && data ? <span className="status-item-warn">Last refresh failed: {describeError(error)}</span> : null}
				</div>
			</section>

			{result && total > 0 && (
				<div className="panel-toolbar panel" style={{ borderBottom: '1px solid var(--border)' }}>
					<div className="segmented" role="group" aria-label="View">
						<button type="button" aria-pressed={query.view === 'both'} onClick={() => navigate({ view: 'both' })} data-testid="view-both">
							Both
						</button>
						<button type="button" aria-pressed={query.view === 'graph'} onClick={() => navigate({ view: 'graph' })} data-testid="view-graph">
							Flame graph
						</button>
						<button type="button" aria-pressed={query.view === 'table'} onClick={() => navigate({ view: 'table' })} data-testid="view-table">
							Top functions
						</button>
					</div>
					<div className="search-box">
						<input type="search" className="input" placeholder="Search functions (e.g. malloc)" value={search} onChange={(event) => setSearch(event.target.value)} data-testid="flame-search" aria-label="Search functions" />
					</div>
					<span className="search-share" data-testid="flame-search-share" aria-live="polite">
						{share ? (
							share.nodes === 0 ? (
								<>No frame matches “{search.trim()}”</>
							) : (
								<>
									<strong>{formatPercent((100 * share.matched) / Math.max(1, share.total))}</strong> of samples match “{search.trim()}” ({formatInt(share.matched)} of {formatInt(share.total)}, {formatInt(share.nodes)} {share.nodes === 1 ? 'frame' : 'frames'})
								</>
							)
						) : (
							'Search highlights matching frames and shows their share of all samples'
						)}
					</span>
				</div>
			)}

			{body}
		</div>
	);
}
