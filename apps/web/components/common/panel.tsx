import type { ReactNode } from 'react';

interface PanelProps {
	title: ReactNode;
	/** Beside the title: counts, what is shown. */
	note?: ReactNode;
	className?: string;
	children: ReactNode;
}

/** A titled panel around a chart or table. */
export function Panel({ title, note, className, children }: PanelProps) {
	return (
		<div className={className ? `panel ${className}` : 'panel'}>
			<div className="panel-head">
				<span className="panel-title">{title}</span>
				{note ? <span className="toolbar-note">{note}</span> : null}
			</div>
			{children}
		</div>
	);
}
