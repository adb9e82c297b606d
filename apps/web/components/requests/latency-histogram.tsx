'use client';

import { memo, useMemo } from 'react';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { HistogramBucket } from '@firesight/store';
import { formatInt } from '../../lib/format.ts';
import { bucketLabel } from '../../lib/requests.ts';

interface LatencyHistogramProps {
	buckets: readonly HistogramBucket[];
	testId?: string;
}

/** Request counts per log2 latency bucket: each bar is twice as wide in time as the one before. */
export const LatencyHistogram = memo(function LatencyHistogram({ buckets, testId }: LatencyHistogramProps) {
	const data = useMemo(() => buckets.map((b) => ({ label: bucketLabel(b.lowMs, b.highMs), count: b.count })), [buckets]);
	return (
		<div className="latency-chart" data-testid={testId}>
			<ResponsiveContainer width="100%" height="100%">
				<BarChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
					<CartesianGrid stroke="var(--border)" vertical={false} />
					<XAxis dataKey="label" stroke="var(--text-faint)" fontSize={11} interval="preserveStartEnd" minTickGap={12} />
					<YAxis stroke="var(--text-faint)" fontSize={11} width={44} allowDecimals={false} tickFormatter={(v: number) => formatInt(v)} />
					<Tooltip
						cursor={{ fill: 'var(--surface-hover)' }}
						contentStyle={{ background: 'var(--surface-raised)', border: '1px solid var(--border)', borderRadius: 4, fontSize: 12 }}
						formatter={(value) => [formatInt(Number(value)), 'requests']}
					/>
					<Bar dataKey="count" fill="#f5803e" isAnimationActive={false} radius={[2, 2, 0, 0]} />
				</BarChart>
			</ResponsiveContainer>
		</div>
	);
});
