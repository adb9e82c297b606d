import type { ReactNode } from 'react';

interface StatCardProps {
	label: string;
	/** The big number; omit it to put a chart (children) under the label instead. */
	value?: ReactNode;
	testId?: string;
	children?: ReactNode;
}

/** One figure of a page's summary row. */
export function StatCard({ label, value, testId, children }: StatCardProps) {
	return (
		<div className={children ? 'stat-card stat-card-chart' : 'stat-card'}>
			<span className="stat-label">{label}</span>
			{value !== undefined && (
				<span className="stat-value" data-testid={testId}>
					{value}
				</span>
			)}
			{children}
		</div>
	);
}
