'use client';

import { useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useMemo, useState } from 'react';
import type { SandwichResult } from '@firesight/api';
import { api, describeError } from '../../lib/api.ts';
import { hostInput } from '../../lib/host-selection.ts';
import { formatInt, formatPercent } from '../../lib/format.ts';
import { parseProfileQuery, profileHref, resolveRange } from '../../lib/profile-query.ts';
import { parseSandwichTarget, sandwichHref, sandwichQueryWarnings, shareSandwichHref } from '../../lib/sandwich-links.ts';
import { shareHref } from '../../lib/share-links.ts';
import { EmptyState } from '../common/empty-state.tsx';
import { CopyLink } from '../share/copy-link.tsx';
import { PageHead } from '../common/page-head.tsx';
import { FlameGraph } from '../profiles/flame-graph.tsx';
import { QueryWarnings } from '../profiles/query-warnings.tsx';
import { ProfilerWarmUpNotice, useProfilerWarmUps } from '../profiles/profiler-warm-up.tsx';

/** Sandwich trees have no root or process level: every depth is a frame, in the kind palette. */
const keepPalette = (_data: unknown, original: string) => original;

/**
 * One function's callers above it and callees below it, merged over every stack it is on.
 * `shareId` reads a share; without it, the Profiles page's query in the URL.
 */
export function SandwichView({ shareId }: { shareId?: string }) {
	const params = useSearchParams();
	const router = useRouter();
	const target = useMemo(() => parseSandwichTarget(params), [params]);
	const { state: query, warnings } = useMemo(() => parseProfileQuery(params), [params]);
	const [result, setResult] = useState<SandwichResult | null>(null);
	const [error, setError] = useState<unknown>(null);
	const [resetCallers, setResetCallers] = useState(0);
	const [resetCallees, setResetCallees] = useState(0);
	const key = params.toString();
	const warmUps = useProfilerWarmUps(!shareId && target && query.range.kind !== 'absolute' ? [query.hosts] : []);
	useEffect(() => {
		if (!target) return;
		const controller = new AbortController();
		const minFraction = 1 / Math.max(1200, window.innerWidth);
		const fn = { name: target.name, ...(target.module ? { module: target.module } : {}), minFraction };
		setError(null);
		const { from, to } = resolveRange(query.range, Date.now());
		const request = shareId
			? api.sandwich.share.query({ id: shareId, ...fn }, { signal: controller.signal })
			: api.sandwich.query.query(
					{
						fromMs: from,
						toMs: to,
						...(query.pid !== null ? { pid: query.pid } : {}),
						...(query.comm ? { comm: query.comm } : {}),
						...hostInput(query.hosts),
						...fn,
					},
					{ signal: controller.signal },
				);
		request.then(setResult, (failure: unknown) => {
			if (controller.signal.aborted) return;
			setResult(null);
			setError(failure);
		});
		return () => controller.abort();
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [key, shareId]);

	// The live sandwich shares as the Profiles page does: a snapshot of its query, opened here.
	const [link, setLink] = useState<string | null>(null);
	const [shareError, setShareError] = useState<unknown>(null);
	const [sharing, setSharing] = useState(false);
	const share = async () => {
		if (!target || query.hosts.length > 1) {
			setShareError(new Error('A share takes one host or every host: pick one host, or all, in the host selector.'));
			return;
		}
		setSharing(true);
		setShareError(null);
		try {
			const { from, to } = resolveRange(query.range, Date.now());
			const made = await api.shares.create.mutate({
				fromMs: Math.floor(from),
				toMs: Math.ceil(to),
				...(query.pid !== null ? { pid: query.pid } : {}),
				...(query.comm ? { comm: query.comm } : {}),
				...(query.hosts[0] !== undefined ? { host: query.hosts[0] } : {}),
			});
			setLink(shareSandwichHref(made.id, target));
		} catch (failure) {
			setShareError(failure);
		} finally {
			setSharing(false);
		}
	};

	const back = shareId
		? shareHref(shareId)
		: profileHref({ range: query.range, pid: query.pid, comm: query.comm, hosts: query.hosts, search: target?.name ?? '' });
	// Clicking a caller or callee makes it the sandwich's function.
	const open = (name: string | null) => {
		if (!name || name === target?.name) return;
		router.push(shareId ? shareSandwichHref(shareId, { name }) : sandwichHref({ name }, query));
	};

	return (
		<div className="page" data-testid="sandwich-view">
			<PageHead title={`Sandwich${target ? `: ${target.name}` : ''}`}>
				Every caller of the function above it and every callee below it, merged over all the places it runs
			</PageHead>
			<section className="panel">
				<div className="query-bar">
					{target && (
						<span className="mono strong ellipsis" data-testid="sandwich-function" title={target.name}>
							{target.name}
							{target.module && <span className="dim"> · {target.module}</span>}
						</span>
					)}
					{result && (
						<span className="toolbar-note" data-testid="sandwich-totals">
							total {formatInt(result.total)} samples (
							{formatPercent(result.profileTotal > 0 ? (100 * result.total) / result.profileTotal : 0)}) · self {formatInt(result.self)} (
							{formatPercent(result.profileTotal > 0 ? (100 * result.self) / result.profileTotal : 0)})
						</span>
					)}
					<div className="spacer" />
					{!shareId && target && (
						<button
							type="button"
							className="button button-primary"
							onClick={share}
							disabled={sharing}
							data-testid="sandwich-share"
							title="A link to a snapshot of this profile, opened on this function's sandwich; it opens without the dashboard's login"
						>
							Share
						</button>
					)}
					{link && <CopyLink path={link} testId="sandwich-share-link" />}
					<a className="button" href={back} data-testid="sandwich-back">
						← {shareId ? 'Back to the share' : 'Back to Profiles'}
					</a>
				</div>
				{!shareId && target && (
					<QueryWarnings warnings={sandwichQueryWarnings(warnings)} onClean={() => router.replace(sandwichHref(target, query))} />
				)}
				<ProfilerWarmUpNotice warmUps={warmUps} />
				{shareError !== null && (
					<p className="empty-detail import-error" role="alert" data-testid="sandwich-share-error" style={{ margin: '0 12px 10px' }}>
						{describeError(shareError)}
					</p>
				)}
			</section>
			{!target ? (
				<EmptyState
					title="No function chosen"
					detail="Open a sandwich from the top functions table or a selected frame of the flame graph."
				/>
			) : error !== null ? (
				<EmptyState title="No sandwich for this function" detail={describeError(error)} tone="error" testId="sandwich-error" />
			) : !result ? (
				<div className="empty-state">Loading…</div>
			) : (
				<>
					<section className="panel graph-panel" aria-label="Callers">
						<div className="panel-head">
							<span className="panel-title">Callers</span>
							<span className="toolbar-note">who calls it, up to the stack roots · click one to make it the function</span>
							<button type="button" className="button button-small" onClick={() => setResetCallers((n) => n + 1)}>
								Reset zoom
							</button>
						</div>
						<div data-testid="sandwich-callers">
							<FlameGraph
								root={result.callers}
								orientation="flame"
								search=""
								resetKey={resetCallers}
								onZoomChange={(name) => open(name)}
								colorOf={keepPalette}
							/>
						</div>
					</section>
					<section className="panel graph-panel" aria-label="Callees">
						<div className="panel-head">
							<span className="panel-title">Callees</span>
							<span className="toolbar-note">what it calls, down to the leaves · click one to make it the function</span>
							<button type="button" className="button button-small" onClick={() => setResetCallees((n) => n + 1)}>
								Reset zoom
							</button>
						</div>
						<div data-testid="sandwich-callees">
							<FlameGraph
								root={result.callees}
								orientation="icicle"
								search=""
								resetKey={resetCallees}
								onZoomChange={(name) => open(name)}
								colorOf={keepPalette}
							/>
						</div>
					</section>
				</>
			)}
		</div>
	);
}
