'use client';

import { memo } from 'react';
import { Area, AreaChart, ResponsiveContainer, Tooltip, YAxis } from 'recharts';
import { formatClock, formatRate } from '../../lib/format.ts';
import type { ThroughputPoint } from '../../lib/live-store.ts';

/** Redrawn only when a new point arrives: the page's once-a-second render alone does not touch it. */
export const ThroughputChart = memo(function ThroughputChart({ points }: { points: readonly ThroughputPoint[] }) {
	if (points.length < 2) return <div className="sparkline-empty">collecting…</div>;
	return (
		<div className="sparkline">
			<ResponsiveContainer width="100%" height="100%">
				<AreaChart data={points as ThroughputPoint[]} margin={{ top: 4, right: 0, bottom: 0, left: 0 }}>
					<defs>
						<linearGradient id="throughput-fill" x1="0" y1="0" x2="0" y2="1">
							<stop offset="0%" stopColor="var(--accent)" stopOpacity={0.45} />
							<stop offset="100%" stopColor="var(--accent)" stopOpacity={0.02} />
						</linearGradient>
					</defs>
					<YAxis hide domain={[0, 'auto']} />
					<Tooltip
						cursor={{ stroke: 'var(--border-strong)' }}
						contentStyle={{ background: 'var(--surface-raised)', border: '1px solid var(--border)', borderRadius: 4, fontSize: 12 }}
						labelFormatter={(_, payload) => {
							const ts = payload?.[0]?.payload?.ts;
							return typeof ts === 'number' ? formatClock(ts) : '';
						}}
						formatter={(value) => [formatRate(Number(value)), 'samples/s']}
					/>
					<Area
						type="monotone"
						dataKey="samplesPerSec"
						stroke="var(--accent)"
						strokeWidth={1.5}
						fill="url(#throughput-fill)"
						isAnimationActive={false}
					/>
				</AreaChart>
			</ResponsiveContainer>
		</div>
	);
});
