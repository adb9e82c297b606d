import type { ReactNode } from 'react';

interface FilterToolbarProps {
	value: string;
	onChange(value: string): void;
	placeholder: string;
	/** What is filtered, for screen readers: "Filter <what>". */
	what: string;
	testId: string;
	/** The note beside the field: counts and hints. */
	children: ReactNode;
}

/** The filter field above a live table. */
export function FilterToolbar({ value, onChange, placeholder, what, testId, children }: FilterToolbarProps) {
	return (
		<div className="panel-toolbar">
			<input
				type="search"
				className="input filter-input"
				placeholder={placeholder}
				value={value}
				onChange={(event) => onChange(event.target.value)}
				data-testid={testId}
				aria-label={`Filter ${what}`}
			/>
			<span className="toolbar-note">{children}</span>
		</div>
	);
}
