'use client';

import { memo, useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatClock, formatDateTime, formatRate } from '../../lib/format.ts';
import { chartRows, type ChartSeries } from '../../lib/network.ts';

/** Distinct hues on the dark theme, the accent first. */
export const SERIES_COLORS = ['#f5803e', '#6e9fff', '#3fb950', '#d94cf0', '#e0a526', '#2dd4bf', '#f2495c', '#a3a3ff'];

interface RetransmitChartProps {
	buckets: readonly number[];
	series: readonly ChartSeries[];
	/** Axis labels with the date when the range spans days. */
	longRange: boolean;
	testId?: string;
}

/** Redrawn when its answer changes; the page's once-a-second render passes the same arrays and skips it. */
export const RetransmitChart = memo(function RetransmitChart({ buckets, series, longRange, testId }: RetransmitChartProps) {
	const data = useMemo(() => chartRows(buckets, series), [buckets, series]);
	const tick = longRange ? formatDateTime : formatClock;
	return (
		<div className="retrans-chart" data-testid={testId}>
			<ResponsiveContainer width="100%" height="100%">
				<LineChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
					<CartesianGrid stroke="var(--border)" vertical={false} />
					<XAxis
						dataKey="t"
						type="number"
						scale="time"
						domain={['dataMin', 'dataMax']}
						tickFormatter={(t: number) => tick(t)}
						stroke="var(--text-faint)"
						fontSize={11}
						minTickGap={48}
					/>
					<YAxis stroke="var(--text-faint)" fontSize={11} width={44} allowDecimals tickFormatter={(v: number) => formatRate(v)} />
					<Tooltip
						contentStyle={{ background: 'var(--surface-raised)', border: '1px solid var(--border)', borderRadius: 4, fontSize: 12 }}
						labelFormatter={(t) => formatDateTime(Number(t))}
						formatter={(value, name) => [`${formatRate(Number(value))}/s`, String(name)]}
					/>
					<Legend wrapperStyle={{ fontSize: 12 }} iconType="plainline" />
					{series.map((s, i) => (
						<Line
							key={s.key}
							dataKey={s.key}
							name={s.label}
							type="monotone"
							dot={false}
							strokeWidth={1.5}
							stroke={SERIES_COLORS[i % SERIES_COLORS.length]}
							isAnimationActive={false}
						/>
					))}
				</LineChart>
			</ResponsiveContainer>
		</div>
	);
});
