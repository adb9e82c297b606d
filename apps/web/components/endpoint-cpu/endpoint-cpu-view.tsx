'use client';

import { useRouter, useSearchParams } from 'next/navigation';
import { useMemo, useState } from 'react';
import type { EndpointCpu } from '@firesight/api';
import { api } from '../../lib/api.ts';
import { defaultDiffView, diffHref, type DiffSideState } from '../../lib/diff-query.ts';
import { endpointCpuHref, parseEndpointCpuTarget, REQUEST_LABEL_RULE, type EndpointCpuTarget } from '../../lib/endpoint-cpu-links.ts';
import { formatDateTime, formatInt, formatPercent } from '../../lib/format.ts';
import { findPreset, profileHref } from '../../lib/profile-query.ts';
import { useRangeQuery, useRefreshTick } from '../../lib/use-range-query.ts';
import { EmptyState } from '../common/empty-state.tsx';
import { PageHead } from '../common/page-head.tsx';
import { StatCard } from '../common/stat-card.tsx';
import { FlameGraph } from '../profiles/flame-graph.tsx';
import { TimeRangePicker } from '../profiles/time-range-picker.tsx';
import { ProfilerWarmUpNotice, useProfilerWarmUps } from '../profiles/profiler-warm-up.tsx';
import './endpoint-cpu.css';

/** `node (4242) on web-1`: whose CPU the share is of. */
function processLabel(target: EndpointCpuTarget): string {
	const who = target.pid !== undefined ? `pid ${target.pid}` : target.comm ? `every ${target.comm} process` : 'every process';
	return target.host ? `${who} on ${target.host}` : who;
}

/** `over the last 15 minutes`, or `from 30 Nov, 05:15:26 to 30 Nov, 05:15:27`. */
function rangePhrase(target: EndpointCpuTarget): string {
	const range = target.range;
	if (range.kind === 'relative') return `over the ${(findPreset(range.preset)?.label ?? range.preset).toLowerCase()}`;
	return `from ${formatDateTime(range.from)} to ${formatDateTime(range.to)}`;
}

/**
 * The diff of this endpoint (baseline) against the same process's whole CPU (comparison), whose
 * Endpoint field then names the other endpoint: the diff view compares two endpoints.
 */
function compareHref(target: EndpointCpuTarget): string {
	const side: DiffSideState = {
		kind: 'query',
		range: target.range,
		pid: target.pid ?? null,
		comm: target.pid === undefined ? (target.comm ?? '') : '',
		host: target.host ?? '',
	};
	return diffHref({ ...defaultDiffView, baseline: { ...side, endpoint: target.endpoint }, comparison: side });
}

/** The pprof download of the same samples, with the endpoint label on each. */
function pprofHref(target: EndpointCpuTarget, fromMs: number, toMs: number): string {
	const params = new URLSearchParams({ from: String(Math.floor(fromMs)), to: String(Math.ceil(toMs)) });
	// A request's samples: all of them, whatever endpoint the other requests open then were of.
	if (target.requestId) params.set('request', target.requestId);
	else params.set('endpoint', target.endpoint);
	if (target.host) params.set('host', target.host);
	if (target.pid !== undefined) params.set('pid', String(target.pid));
	else if (target.comm) params.set('comm', target.comm);
	return `/api/pprof?${params.toString()}`;
}

/**
 * "CPU of this endpoint" (the samples attributed to an endpoint over a range) and "CPU during
 * this request" (those attributed to one slow request), with the share of the serving
 * process's CPU they are. Samples taken while several requests were open on the thread are
 * counted and labelled ambiguous, never passed off as the endpoint's own.
 */
export function EndpointCpuView() {
	const params = useSearchParams();
	const router = useRouter();
	const { target, warnings } = useMemo(() => parseEndpointCpuTarget(params), [params]);
	const [resetKey, setResetKey] = useState(0);
	// For an ambiguous request: draw its own samples only, rather than its thread's during its lifetime.
	const [ownOnly, setOwnOnly] = useState(false);
	const range = target?.range ?? { kind: 'relative' as const, preset: '15m' as const };
	const tick = useRefreshTick(range);
	const key = target ? `${params.toString()}${ownOnly ? '&own' : ''}` : null;
	const { data, error } = useRangeQuery(range, tick, key, (fromMs, toMs, signal) =>
		target
			? api.profile.endpoint.query(
					{
						fromMs,
						toMs,
						// A request's own samples and, when its attribution was ambiguous, its
						// thread's during its lifetime, whatever endpoint they were stamped with.
						...(target.requestId ? { requestId: target.requestId, ownOnly } : { endpoint: target.endpoint }),
						...(target.host ? { host: target.host } : {}),
						...(target.pid !== undefined ? { pid: target.pid } : target.comm ? { comm: target.comm } : {}),
						minFraction: 1 / Math.max(1200, window.innerWidth),
					},
					{ signal },
				)
			: Promise.resolve(null as EndpointCpu | null),
	);
	const during = target?.requestId !== undefined;
	const warmUps = useProfilerWarmUps(target && target.range.kind !== 'absolute' ? [target.host ? [target.host] : []] : []);
	const title = during ? 'CPU during this request' : 'CPU of this endpoint';

	if (!target) {
		return (
			<div className="page">
				<PageHead title={title}>The CPU an endpoint of a traced server burned, from its samples</PageHead>
				<EmptyState
					title="No endpoint chosen"
					detail="Open this page from an endpoint row or a slow request on the Requests page, or give `?endpoint=GET /path` in the URL."
				/>
			</div>
		);
	}
	const flame = data?.flame;
	const share = data?.share ?? null;
	const ambiguousShare = data && data.flame.totalSamples > 0 ? data.ambiguousSamples / data.flame.totalSamples : 0;
	// "CPU during this request" when other requests were open on its thread during it.
	const lifetime = data?.request && data.request.lifetimeSamples > 0 ? data.request : undefined;
	const graphTitle = !lifetime ? title : ownOnly ? 'Its own samples (exact)' : 'CPU of its thread during its lifetime';
	return (
		<div className="page" data-testid="endpoint-cpu-view">
			<PageHead title={title}>
				{during ? 'The samples attributed to one request, ' : 'The samples attributed to this endpoint, '}
				from the TLS capture of the server with no change to it: which thread read a request and was on CPU until it answered.
			</PageHead>
			{warnings.length > 0 && (
				<div className="query-warnings" role="status" data-testid="query-warnings">
					<span className="query-warnings-icon" aria-hidden>
						!
					</span>
					<ul className="query-warnings-list">
						{warnings.map((w) => (
							<li key={w}>{w}</li>
						))}
					</ul>
				</div>
			)}
			<section className="panel">
				<div className="query-bar endpoint-cpu-bar">
					<span className="mono strong ellipsis" data-testid="endpoint-cpu-endpoint" title={target.endpoint}>
						{target.endpoint}
					</span>
					{during && (
						<span className="badge" data-testid="endpoint-cpu-request">
							request {target.requestId}
						</span>
					)}
					<span className="toolbar-note">{processLabel(target)}</span>
					<div className="spacer" />
					{!during && (
						<TimeRangePicker range={target.range} onChange={(next) => router.replace(endpointCpuHref({ ...target, range: next }))} />
					)}
				</div>
				<ProfilerWarmUpNotice warmUps={warmUps} />
			</section>
			<section className="stat-row stat-row-4" aria-label="Summary">
				<StatCard
					label={`Share of ${target.pid !== undefined ? "the process's" : "the processes'"} CPU`}
					value={data ? (share === null ? '–' : formatPercent(100 * share)) : '…'}
					testId="endpoint-cpu-share"
				/>
				<StatCard label="Samples" value={data ? formatInt(data.flame.totalSamples) : '…'} testId="endpoint-cpu-samples" />
				<StatCard label={`Of ${target.pid !== undefined ? 'the process' : 'them'}`} value={data ? formatInt(data.processSamples) : '…'} />
				<StatCard
					label="Ambiguous"
					value={
						data ? (
							<span className={data.ambiguousSamples > 0 ? 'ambiguous-value' : ''}>
								{formatInt(data.ambiguousSamples)}
								{data.ambiguousSamples > 0 && ` (${formatPercent(100 * ambiguousShare)})`}
							</span>
						) : (
							'…'
						)
					}
					testId="endpoint-cpu-ambiguous"
				/>
			</section>
			{lifetime && (
				<section
					className="stat-row endpoint-cpu-lifetime-row"
					aria-label="Attribution of this request"
					data-testid="endpoint-cpu-lifetime"
				>
					<StatCard label="Its own samples (exact)" value={formatInt(lifetime.exactSamples)} testId="endpoint-cpu-exact" />
					<StatCard
						label="Its thread during its lifetime (ambiguous)"
						value={<span className="ambiguous-value">{formatInt(lifetime.exactSamples + lifetime.lifetimeSamples)}</span>}
						testId="endpoint-cpu-lifetime-samples"
					/>
					<StatCard
						label="May be from after it ended"
						value={
							<span className={lifetime.mayBeAfterSamples > 0 ? 'ambiguous-value' : ''}>up to {formatInt(lifetime.mayBeAfterSamples)}</span>
						}
						testId="endpoint-cpu-may-be-after"
					/>
				</section>
			)}
			{lifetime ? (
				<div className="ambiguous-note" role="note" data-testid="endpoint-cpu-ambiguous-note">
					<span className="badge badge-ambiguous">ambiguous</span> Other requests were open on this request&apos;s thread while it ran (an
					event loop serving them in turns), so which of them a sample belongs to is not known. Shown is the CPU of its thread during its
					lifetime: its {formatInt(lifetime.exactSamples)} own samples, taken while it was the only request open, and{' '}
					{formatInt(lifetime.lifetimeSamples)} taken while others were open too, whatever request ran
					{lifetime.mayBeAfterSamples > 0
						? ` (ambiguous: may include up to ${formatInt(lifetime.mayBeAfterSamples)} samples from after it ended, while a request that started during it was still open)`
						: ''}
					.
				</div>
			) : (
				data &&
				data.ambiguousSamples > 0 && (
					<div className="ambiguous-note" role="note" data-testid="endpoint-cpu-ambiguous-note">
						<span className="badge badge-ambiguous">ambiguous</span> {formatInt(data.ambiguousSamples)} of these samples were taken while
						several requests were open on the thread (an event loop serving them in turns): they are counted for the request read last,
						which may not be the one running.
					</div>
				)
			)}
			{error !== null ? (
				<EmptyState title="The hub did not answer" detail={error} tone="error" testId="endpoint-cpu-error" />
			) : !flame ? (
				<div className="empty-state">Loading…</div>
			) : flame.totalSamples === 0 ? (
				<EmptyState
					title={during ? 'No samples were attributed to this request' : 'No samples were attributed to this endpoint'}
					detail={`Nothing ${rangePhrase(target)}. Attribution needs profiling and TLS capture on the serving host; a request that spent its time waiting (I/O, locks) burns no CPU.`}
					testId="endpoint-cpu-empty"
				>
					{during && (
						<p className="empty-detail" data-testid="endpoint-cpu-unlabelled">
							{REQUEST_LABEL_RULE}{' '}
							<a href={endpointCpuHref({ ...target, requestId: undefined })} data-testid="endpoint-cpu-endpoint-link">
								CPU of this endpoint over the same time
							</a>
						</p>
					)}
				</EmptyState>
			) : (
				<section className="panel graph-panel" aria-label="Flame graph">
					<div className="panel-head">
						<span className="panel-title">{graphTitle}</span>
						{lifetime && !ownOnly && <span className="badge badge-ambiguous">ambiguous</span>}
						{lifetime && (
							<div className="segmented" role="group" aria-label="Samples drawn">
								<button type="button" aria-pressed={!ownOnly} onClick={() => setOwnOnly(false)} data-testid="endpoint-cpu-view-lifetime">
									Thread during its lifetime
								</button>
								<button
									type="button"
									aria-pressed={ownOnly}
									disabled={lifetime.exactSamples === 0}
									title={lifetime.exactSamples === 0 ? 'No sample was taken while it was the only request open on its thread' : undefined}
									onClick={() => setOwnOnly(true)}
									data-testid="endpoint-cpu-view-own"
								>
									Its own samples
								</button>
							</div>
						)}
						<span className="toolbar-note">
							{formatInt(flame.totalSamples)} samples {rangePhrase(target)}
						</span>
						<div className="endpoint-cpu-actions">
							<a
								className="button button-small"
								href={profileHref({
									range: target.range,
									pid: target.pid ?? null,
									comm: target.pid === undefined ? (target.comm ?? '') : '',
									hosts: target.host ? [target.host] : [],
									endpoint: target.endpoint,
								})}
								data-testid="endpoint-cpu-profiles"
							>
								Open in Profiles
							</a>
							{!during && (
								<a className="button button-small" href={compareHref(target)} data-testid="endpoint-cpu-compare">
									Compare with another endpoint
								</a>
							)}
							<a
								className="button button-small"
								href={pprofHref(target, flame.fromMs, flame.toMs)}
								download
								data-testid="endpoint-cpu-pprof"
							>
								Download pprof
							</a>
							<button type="button" className="button button-small" onClick={() => setResetKey((n) => n + 1)}>
								Reset zoom
							</button>
						</div>
					</div>
					<div data-testid="endpoint-cpu-graph">
						<FlameGraph root={flame.tree} orientation="icicle" search="" resetKey={resetKey} onZoomChange={() => {}} />
					</div>
				</section>
			)}
		</div>
	);
}
