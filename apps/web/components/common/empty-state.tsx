import type { ReactNode } from 'react';
import { InlineCode } from './inline-code.tsx';

interface EmptyStateProps {
	title: string;
	detail?: string;
	action?: { label: string; onClick(): void } | undefined;
	children?: ReactNode;
	tone?: 'neutral' | 'error';
	testId?: string;
}

/** What to show instead of a blank panel: what happened and what to do about it. */
export function EmptyState({ title, detail, action, children, tone = 'neutral', testId = 'empty-state' }: EmptyStateProps) {
	return (
		<div className={`empty-state empty-${tone}`} data-testid={testId} role={tone === 'error' ? 'alert' : 'status'}>
			<div className="empty-title">{title}</div>
			{detail && (
				<p className="empty-detail">
					<InlineCode text={detail} />
				</p>
			)}
			{children}
			{action && (
				<button type="button" className="button" onClick={action.onClick}>
					{action.label}
				</button>
			)}
		</div>
	);
}

/** No collector is connected: how to start one. */
export function NoCollectorState() {
	return (
		<EmptyState
			title="No collector is sending data"
			detail="Start one on this host with `firesight up` (or `npm start`), or point `firesight collector --hub URL --token TOKEN` at this hub."
		/>
	);
}
