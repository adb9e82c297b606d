'use client';

import { useCallback, useEffect, useMemo, useState } from 'react';
import type { DiffResult, DiffSide } from '@firesight/api';
import type { DiffNode, FlameNode } from '@firesight/profile';
import { api, describeError } from '../../lib/api.ts';
import {
	diffColor,
	shareChange,
	sharedDiffHref,
	sideInput,
	type DiffQueryState,
	type DiffSideState,
	type DiffViewState,
} from '../../lib/diff-query.ts';
import { formatDateTime, formatInt, formatPercent } from '../../lib/format.ts';
import { useDebounced } from '../../lib/use-debounced.ts';
import { EmptyState } from '../common/empty-state.tsx';
import { FlameGraph, escapeHtml } from '../profiles/flame-graph.tsx';
import { ProfilerWarmUpNotice, useProfilerWarmUps } from '../profiles/profiler-warm-up.tsx';
import { CopyLink } from '../share/copy-link.tsx';
import { DiffLegend } from './diff-legend.tsx';
import { DiffSideEditor } from './diff-side-editor.tsx';
import { DiffTable } from './diff-table.tsx';

interface DiffViewProps {
	state: DiffQueryState;
	navigate(patch: Partial<DiffQueryState>): void;
	/** A diff of two shares opened by its link: read-only sides, readable without a login. */
	shared?: boolean;
}

function changeText(change: number): string {
	if (change === Number.POSITIVE_INFINITY) return 'new in the comparison';
	if (change === -1) return 'gone from the comparison';
	return `${change > 0 ? '+' : change < 0 ? '−' : '±'}${formatPercent(Math.abs(100 * change))} of its share`;
}

function tooltip(result: DiffResult) {
	return (data: FlameNode) => {
		const node = data as DiffNode;
		const pct = (value: number, total: number) => (total > 0 ? formatPercent((100 * value) / total) : '–');
		const change = shareChange(node.baseline, result.baselineTotal, node.comparison, result.comparisonTotal);
		return `<div class="tt-name">${escapeHtml(node.name)}</div>
<div class="tt-module">${escapeHtml([node.module, node.kind].filter(Boolean).join(' · ') || (node.name === 'all' ? 'every sampled process' : 'process (comm)'))}</div>
<table><tbody>
<tr><td>Baseline</td><td>${formatInt(node.baseline)} samples</td><td>${pct(node.baseline, result.baselineTotal)}</td></tr>
<tr><td>Comparison</td><td>${formatInt(node.comparison)} samples</td><td>${pct(node.comparison, result.comparisonTotal)}</td></tr>
<tr><td>Change</td><td colspan="2">${escapeHtml(changeText(change))}</td></tr>
</tbody></table>
<div class="tt-hint">Click to zoom in</div>`;
	};
}

function describeSide(side: DiffSide): string {
	if (side.kind === 'share') {
		const s = side.share;
		const what =
			s.source.kind === 'import'
				? `file ${s.source.file?.name ?? ''}`
				: `${formatDateTime(s.source.fromMs)} – ${formatDateTime(s.source.toMs)}`;
		const procs = s.source.processes
			.slice(0, 3)
			.map((p) => `${p.comm} (${p.pid})`)
			.join(', ');
		return `share ${s.id} · ${what}${procs ? ` · ${procs}` : ''}`;
	}
	const q = side.query;
	const filters = [
		q.host && `host ${q.host}`,
		q.pid !== undefined && `pid ${q.pid}`,
		q.comm && `command ${q.comm}`,
		q.endpoint && `endpoint ${q.endpoint}`,
	]
		.filter(Boolean)
		.join(', ');
	return `${formatDateTime(q.fromMs)} – ${formatDateTime(q.toMs)}${filters ? ` · ${filters}` : ' · every process'} · ${formatInt(side.windows)} windows`;
}

/** Both sides as shares, for a link that holds both snapshots: query sides are snapshotted now. */
async function snapshot(side: DiffSideState, now: number): Promise<string> {
	const input = sideInput(side, now);
	if ('share' in input) return input.share;
	return (await api.shares.create.mutate(input.query)).id;
}

/** A diff flame graph of a baseline and a comparison, coloured by change, and the largest changes. */
export function DiffView({ state, navigate, shared = false }: DiffViewProps) {
	const [result, setResult] = useState<DiffResult | null>(null);
	const [error, setError] = useState<unknown>(null);
	const [loading, setLoading] = useState(false);
	const [refresh, setRefresh] = useState(0);
	const [resetKey, setResetKey] = useState(0);
	const [link, setLink] = useState<string | null>(null);
	const [linkError, setLinkError] = useState<string | null>(null);
	const [sharing, setSharing] = useState(false);

	const sidesKey = JSON.stringify([state.baseline, state.comparison, state.byProcess]);
	// The sides still taking samples: a query over a range that moves with the clock.
	const warmUps = useProfilerWarmUps(
		shared
			? []
			: [state.baseline, state.comparison].flatMap((side) =>
					side.kind === 'query' && side.range.kind !== 'absolute' ? [side.host ? [side.host] : []] : [],
				),
	);
	useEffect(() => {
		const controller = new AbortController();
		const minFraction = 1 / Math.max(1200, window.innerWidth);
		const now = Date.now();
		const common = { minFraction, byProcess: state.byProcess, topLimit: 50 };
		setLoading(true);
		setError(null);
		setLink(null);
		const request =
			state.baseline.kind === 'share' && state.comparison.kind === 'share'
				? api.diff.shares.query(
						{ baseline: { share: state.baseline.id }, comparison: { share: state.comparison.id }, ...common },
						{ signal: controller.signal },
					)
				: api.diff.flame.query(
						{ baseline: sideInput(state.baseline, now), comparison: sideInput(state.comparison, now), ...common },
						{ signal: controller.signal },
					);
		request.then(
			(answer) => {
				setResult(answer);
				setLoading(false);
			},
			(failure: unknown) => {
				if (controller.signal.aborted) return;
				setError(failure);
				setResult(null);
				setLoading(false);
			},
		);
		return () => controller.abort();
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [sidesKey, refresh]);

	const [search, setSearch] = useState(state.search);
	useEffect(() => setSearch(state.search), [state.search]);
	const debounced = useDebounced(search, 400);
	useEffect(() => {
		if (debounced !== state.search) navigate({ search: debounced });
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [debounced]);

	const colorOf = useCallback(
		(data: FlameNode) => {
			if (!result) return undefined;
			const node = data as DiffNode;
			return diffColor(shareChange(node.baseline, result.baselineTotal, node.comparison, result.comparisonTotal));
		},
		[result],
	);
	const tooltipOf = useMemo(() => (result ? tooltip(result) : undefined), [result]);
	const view: DiffViewState = { orientation: state.orientation, search: state.search, byProcess: state.byProcess, rank: state.rank };

	const share = async () => {
		setSharing(true);
		setLinkError(null);
		try {
			const now = Date.now();
			const [a, b] = await Promise.all([snapshot(state.baseline, now), snapshot(state.comparison, now)]);
			setLink(sharedDiffHref(a, b, view));
		} catch (failure) {
			setLinkError(describeError(failure));
		} finally {
			setSharing(false);
		}
	};

	return (
		<>
			<section className="panel" aria-label="What to compare">
				{shared ? (
					<div className="query-bar">
						<span className="toolbar-note">A diff of two shared snapshots: it does not change as new samples arrive.</span>
						<div className="spacer" />
						<CopyLink
							path={sharedDiffHref(
								state.baseline.kind === 'share' ? state.baseline.id : '',
								state.comparison.kind === 'share' ? state.comparison.id : '',
								view,
							)}
							testId="diff-link"
						/>
					</div>
				) : (
					<>
						<DiffSideEditor label="Baseline" side={state.baseline} onChange={(baseline) => navigate({ baseline })} testId="diff-baseline" />
						<DiffSideEditor
							label="Comparison"
							side={state.comparison}
							onChange={(comparison) => navigate({ comparison })}
							testId="diff-comparison"
						/>
						<div className="query-bar">
							<button
								type="button"
								className="button"
								onClick={() => navigate({ baseline: state.comparison, comparison: state.baseline })}
								data-testid="diff-swap"
								title="Swap baseline and comparison"
							>
								⇅ Swap
							</button>
							<button type="button" className="button" onClick={() => setRefresh((n) => n + 1)} data-testid="diff-refresh">
								{loading ? <span className="spinner" /> : '↻'} Refresh
							</button>
							<div className="spacer" />
							{link ? (
								<CopyLink path={link} testId="diff-link" />
							) : (
								<button
									type="button"
									className="button"
									onClick={share}
									disabled={sharing || !result}
									data-testid="diff-share"
									title="Snapshot both sides as shares; the link holds both"
								>
									{sharing ? <span className="spinner" /> : null} Share diff
								</button>
							)}
							{linkError && <span className="toolbar-note error-text">{linkError}</span>}
						</div>
						<ProfilerWarmUpNotice warmUps={warmUps} />
					</>
				)}
				{result && (
					<div className="query-bar diff-sides" data-testid="diff-summary">
						<span className="toolbar-note">
							<strong>Baseline</strong> {formatInt(result.baselineTotal)} samples · {describeSide(result.baseline)}
						</span>
						<span className="toolbar-note">
							<strong>Comparison</strong> {formatInt(result.comparisonTotal)} samples · {describeSide(result.comparison)}
						</span>
					</div>
				)}
			</section>
			{error !== null ? (
				<EmptyState title="The diff could not be made" detail={describeError(error)} tone="error" testId="diff-error" />
			) : !result ? (
				<div className="empty-state">{loading ? 'Loading…' : ''}</div>
			) : result.baselineTotal === 0 && result.comparisonTotal === 0 ? (
				<EmptyState title="Nothing to compare" detail="Neither side has samples. Pick wider ranges or other filters." testId="diff-empty" />
			) : (
				<>
					<DiffTable
						rows={result.functions}
						baselineTotal={result.baselineTotal}
						comparisonTotal={result.comparisonTotal}
						rank={state.rank}
						onRank={(rank) => navigate({ rank })}
						onSelect={(name) => setSearch(name === search ? '' : name)}
					/>
					<section className="panel graph-panel" aria-label="Diff flame graph">
						<div className="panel-head">
							<span className="panel-title">Diff {state.orientation === 'icicle' ? 'icicle' : 'flame'} graph</span>
							<DiffLegend />
							<div className="custom-range">
								<input
									className="input"
									placeholder="Search functions"
									value={search}
									onChange={(event) => setSearch(event.target.value)}
									data-testid="diff-search"
								/>
								<label className="toggle" title="Off: line up two differently named processes by their frames">
									<input
										type="checkbox"
										checked={state.byProcess}
										onChange={(event) => navigate({ byProcess: event.target.checked })}
										data-testid="diff-by-process"
									/>
									By process
								</label>
								<button
									type="button"
									className="button button-small"
									onClick={() => setResetKey((value) => value + 1)}
									data-testid="diff-reset"
								>
									Reset zoom
								</button>
								<div className="segmented" role="group" aria-label="Orientation">
									<button type="button" aria-pressed={state.orientation === 'icicle'} onClick={() => navigate({ orientation: 'icicle' })}>
										Icicle
									</button>
									<button type="button" aria-pressed={state.orientation === 'flame'} onClick={() => navigate({ orientation: 'flame' })}>
										Flame
									</button>
								</div>
							</div>
						</div>
						<p className="toolbar-note" style={{ padding: '4px 12px' }}>
							Widths add each side&apos;s share of its own total; colour is the change of that share.{' '}
							{result.prunedNodes > 0 ? `${formatInt(result.prunedNodes)} frames narrower than a pixel are not drawn.` : ''}
						</p>
						<FlameGraph
							root={result.tree}
							orientation={state.orientation}
							search={state.search}
							resetKey={resetKey}
							onZoomChange={() => {}}
							colorOf={colorOf}
							tooltipOf={tooltipOf}
						/>
					</section>
				</>
			)}
		</>
	);
}
