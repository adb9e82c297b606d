'use client';

import { useEffect, useState } from 'react';
import { Area, AreaChart, CartesianGrid, ReferenceArea, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api, describeError } from '../../lib/api.ts';
import { brushRange, timelinePoints, type TimelinePoint } from '../../lib/cpu-timeline.ts';
import { formatInt, formatRate } from '../../lib/format.ts';

export interface TimelineFilter {
	from: number;
	to: number;
	pid: number | null;
	comm: string;
	endpoint?: string | undefined;
	/** Every host when absent, one, or several added up. */
	host?: string | string[] | undefined;
}

interface CpuTimelineProps {
	filter: TimelineFilter;
	/** Changes when the page fetches again (a new range, a live tick, Refresh). */
	fetchKey: string;
	/** A drag over the chart selected this range. */
	onRange(range: { from: number; to: number }): void;
}

type Loaded = { points: TimelinePoint[]; bucketMs: number; from: number; to: number };

function tickLabel(ms: number, spanMs: number): string {
	const d = new Date(ms);
	const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', ...(spanMs <= 30 * 60_000 ? { second: '2-digit' } : {}) });
	return spanMs > 86_400_000 ? `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}` : time;
}

/** CPU samples per second over the range for the page's filters; drag across it to narrow the range. */
export function CpuTimeline({ filter, fetchKey, onRange }: CpuTimelineProps) {
	const [loaded, setLoaded] = useState<Loaded | null>(null);
	const [error, setError] = useState<unknown>(null);
	const [drag, setDrag] = useState<{ a: number; b: number } | null>(null);

	useEffect(() => {
		const controller = new AbortController();
		const { from, to, pid, comm, endpoint, host } = filter;
		api.profile.timeline
			.query(
				{
					fromMs: from,
					toMs: to,
					...(pid !== null ? { pid } : {}),
					...(comm ? { comm } : {}),
					...(endpoint ? { endpoint } : {}),
					...(host !== undefined ? { host } : {}),
				},
				{ signal: controller.signal },
			)
			.then(
				(timeline) => {
					setLoaded({ points: timelinePoints(timeline), bucketMs: timeline.bucketMs, from: timeline.fromMs, to: timeline.toMs });
					setError(null);
				},
				(failure: unknown) => {
					if (!controller.signal.aborted) setError(failure);
				},
			);
		return () => controller.abort();
		// The filter is read when the key changes, as the flame graph's query is.
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [fetchKey]);

	const finish = () => {
		if (drag && loaded) {
			const range = brushRange(drag.a, drag.b, loaded.bucketMs, loaded);
			if (range) onRange(range);
		}
		setDrag(null);
	};
	const span = loaded ? loaded.to - loaded.from : 0;

	return (
		<section className="panel cpu-timeline" aria-label="CPU over time" data-testid="cpu-timeline" data-bucket-ms={loaded?.bucketMs}>
			<div className="panel-head">
				<span className="panel-title">CPU over time</span>
				<span className="toolbar-note">
					{error
						? `Could not load: ${describeError(error)}`
						: loaded
							? `samples per second, ${formatInt(loaded.bucketMs / 1000)} s buckets · drag across the chart to narrow the range`
							: 'loading…'}
				</span>
			</div>
			<div style={{ height: 120, userSelect: 'none' }} onMouseLeave={() => setDrag(null)}>
				{loaded && (
					<ResponsiveContainer width="100%" height="100%">
						<AreaChart
							data={loaded.points}
							margin={{ top: 6, right: 16, bottom: 0, left: 0 }}
							onMouseDown={(state) => {
								const t = Number(state?.activeLabel);
								if (Number.isFinite(t)) setDrag({ a: t, b: t });
							}}
							onMouseMove={(state) => {
								const t = Number(state?.activeLabel);
								if (drag && Number.isFinite(t) && t !== drag.b) setDrag({ a: drag.a, b: t });
							}}
							onMouseUp={finish}
						>
							<defs>
								<linearGradient id="cpu-timeline-fill" x1="0" y1="0" x2="0" y2="1">
									<stop offset="0%" stopColor="var(--accent)" stopOpacity={0.5} />
									<stop offset="100%" stopColor="var(--accent)" stopOpacity={0.05} />
								</linearGradient>
							</defs>
							<CartesianGrid stroke="var(--border)" strokeDasharray="2 4" vertical={false} />
							<XAxis
								dataKey="t"
								type="number"
								scale="time"
								domain={[loaded.from, loaded.to]}
								tickFormatter={(ms: number) => tickLabel(ms, span)}
								tick={{ fontSize: 11 }}
								minTickGap={40}
							/>
							<YAxis width={44} tick={{ fontSize: 11 }} tickFormatter={(v: number) => formatRate(v)} />
							<Tooltip
								contentStyle={{ background: 'var(--surface-raised)', border: '1px solid var(--border)', borderRadius: 4, fontSize: 12 }}
								labelFormatter={(ms) => new Date(Number(ms)).toLocaleString()}
								formatter={(value, _name, item) => [
									`${formatRate(Number(value))}/s (${formatInt((item?.payload as TimelinePoint | undefined)?.samples ?? 0)} samples)`,
									'CPU samples',
								]}
							/>
							<Area
								type="stepAfter"
								dataKey="samplesPerSec"
								stroke="var(--accent)"
								strokeWidth={1.5}
								fill="url(#cpu-timeline-fill)"
								isAnimationActive={false}
							/>
							{drag && drag.a !== drag.b && (
								<ReferenceArea
									x1={Math.min(drag.a, drag.b)}
									x2={Math.max(drag.a, drag.b) + loaded.bucketMs}
									fill="var(--accent)"
									fillOpacity={0.2}
									ifOverflow="hidden"
								/>
							)}
						</AreaChart>
					</ResponsiveContainer>
				)}
			</div>
		</section>
	);
}
