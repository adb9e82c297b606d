'use client';

import { useEffect, useMemo, useRef, useState } from 'react';
import type { DropDenominator } from '../../lib/drop-descriptions.ts';
import { countersFromMetrics, dropRows, type DropCounter, type DropsSnapshot } from '../../lib/drop-rows.ts';
import { formatInt, formatPercent } from '../../lib/format.ts';
import { useHiddenFrames } from '../../lib/hidden-frames.ts';
import { useLive } from '../live/live-provider.tsx';

const POLL_MS = 2_000;
/** Rates over about this span, so one slow poll does not make them jump. */
const RATE_SPAN_MS = 10_000;

function formatRatePerSec(rate: number | null): string {
	if (rate === null) return '…';
	if (rate === 0) return '0/s';
	return rate >= 10 ? `${formatInt(Math.round(rate))}/s` : `${rate.toFixed(rate >= 1 ? 1 : 2)}/s`;
}

const PER_LABEL: Record<DropDenominator, string> = { samples: 'of samples', requests: 'of requests', windows: 'of windows' };

/**
 * Every loss counter of the hub and its collectors, read from /metrics while the panel is open.
 * If /metrics cannot be read, the collectors' counters from the live stream stand in.
 */
export function DropsPanel({ onClose }: { onClose: () => void }) {
	const live = useLive();
	const hidden = useHiddenFrames();
	const [snapshots, setSnapshots] = useState<DropsSnapshot[]>([]);
	const [error, setError] = useState<string | null>(null);
	const liveRef = useRef(live);
	liveRef.current = live;

	useEffect(() => {
		let stopped = false;
		const denominators = () => {
			const out = new Map<string, Partial<Record<DropDenominator, number>>>();
			for (const [host, table] of liveRef.current.processes) {
				let samples = 0;
				let requests = 0;
				for (const p of table.processes) {
					samples += p.samplesPerSec;
					requests += p.requestsPerSec ?? 0;
				}
				out.set(host, { samples, requests });
			}
			return out;
		};
		const poll = async () => {
			let counters: DropCounter[];
			try {
				const res = await fetch('/metrics', { cache: 'no-store' });
				if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
				counters = countersFromMetrics(await res.text());
				setError(null);
			} catch (err) {
				setError(`${(err as Error).message}; showing the collectors' counters from the live stream`);
				counters = (liveRef.current.status?.hosts ?? []).flatMap((h) =>
					Object.entries(h.drops).map(([name, value]) => ({ source: h.host, name, value })),
				);
			}
			if (stopped) return;
			const now = Date.now();
			setSnapshots((prev) => [
				...prev.filter((s) => now - s.receivedMs <= RATE_SPAN_MS + POLL_MS),
				{ receivedMs: now, counters, denominators: denominators() },
			]);
		};
		void poll();
		const timer = setInterval(() => void poll(), POLL_MS);
		return () => {
			stopped = true;
			clearInterval(timer);
		};
	}, []);

	useEffect(() => {
		const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
		window.addEventListener('keydown', onKey);
		return () => window.removeEventListener('keydown', onKey);
	}, [onClose]);

	const rows = useMemo(() => {
		const newer = snapshots.at(-1);
		if (!newer) return [];
		const older = snapshots.length > 1 ? (snapshots[0] ?? null) : null;
		return dropRows(newer, older);
	}, [snapshots]);

	return (
		<div className="drops-panel panel" role="dialog" aria-label="Drops" data-testid="drops-panel">
			<div className="panel-head">
				<span className="panel-title">Drops</span>
				<span className="toolbar-note">What the hub and its collectors lost, cut or could not name, since each started</span>
				<button type="button" className="drops-panel-close" onClick={onClose} aria-label="Close">
					×
				</button>
			</div>
			{error && <div className="drops-panel-error">{error}</div>}
			<div className="data-table-wrap drops-panel-body">
				<table className="data-table drops-table">
					<thead>
						<tr>
							<th>Source</th>
							<th>Counter</th>
							<th>Meaning</th>
							<th className="num">Count</th>
							<th className="num">Rate</th>
							<th className="num">Share</th>
						</tr>
					</thead>
					<tbody>
						{rows.length === 0 && (
							<tr>
								<td colSpan={6} className="toolbar-note">
									{snapshots.length === 0 ? 'Reading /metrics…' : 'No collector has reported a counter yet.'}
								</td>
							</tr>
						)}
						{rows.map((r) => (
							<tr
								key={`${r.source}/${r.name}`}
								className={
									r.count === 0
										? 'drops-row-zero'
										: !r.lost
											? 'drops-row-kept'
											: (r.ratePerSec ?? 0) > 0
												? 'drops-row-moving'
												: 'drops-row-counted'
								}
								data-counter={r.name}
							>
								<td>{r.source}</td>
								<td className="mono">{r.name}</td>
								<td>
									{r.meaning}
									{!r.lost && <span className="drops-kept-note"> · kept, not lost</span>}
								</td>
								<td className="num">{formatInt(r.count)}</td>
								<td className="num">{formatRatePerSec(r.ratePerSec)}</td>
								<td className="num" title={r.per ? `share ${PER_LABEL[r.per]} over the last seconds` : 'no total to compare with'}>
									{r.share === null ? '–' : `${formatPercent(r.share * 100)} ${r.per ? PER_LABEL[r.per] : ''}`}
								</td>
							</tr>
						))}
						{hidden && (
							<tr className={hidden.frames === 0 ? 'drops-row-zero' : 'drops-row-kept'} data-counter="flame.framesHidden">
								<td>this page</td>
								<td className="mono">flame.framesHidden</td>
								<td>
									Frames of this page&apos;s flame graph narrower than a pixel, merged into grey remainders; zoom in to draw them
									<span className="drops-kept-note"> · kept, not lost</span>
								</td>
								<td className="num">{formatInt(hidden.frames)}</td>
								<td className="num">–</td>
								<td className="num" title="samples in the hidden frames, of the graph's samples">
									{hidden.totalSamples > 0 ? `${formatPercent((hidden.samples / hidden.totalSamples) * 100)} ${PER_LABEL.samples}` : '–'}
								</td>
							</tr>
						)}
					</tbody>
				</table>
			</div>
			<div className="drops-panel-foot toolbar-note">
				Rates over the last {RATE_SPAN_MS / 1000} s. Prometheus can scrape the same counters from /metrics.
			</div>
		</div>
	);
}
