'use client';

/**
 * A labelled text filter as the query bars draw it (PID, command, host, endpoint, share): a draft
 * the user types, committed with Enter (and, where given, when the field loses focus).
 */
export function TextField(props: {
	label: string;
	value: string;
	onChange(value: string): void;
	/** Enter; skipped while the draft is invalid. */
	onCommit(): void;
	/** Also commit when the field loses focus. */
	commitOnBlur?: boolean;
	/** Extra input classes: its width (`pid-input`, `comm-input`, ...) and look. */
	inputClass: string;
	placeholder?: string;
	invalid?: boolean;
	/** On the label: what the filter does. */
	title?: string;
	/** On the input: why the draft is invalid, for instance. */
	inputTitle?: string | undefined;
	inputMode?: 'numeric';
	size?: number;
	testId: string;
}) {
	const invalid = props.invalid === true;
	return (
		<label className="field" title={props.title}>
			<span className="field-label">{props.label}</span>
			<input
				className={`input ${props.inputClass} ${invalid ? 'invalid' : ''}`}
				aria-invalid={invalid}
				title={props.inputTitle}
				inputMode={props.inputMode}
				placeholder={props.placeholder ?? 'any'}
				size={props.size}
				value={props.value}
				onChange={(event) => props.onChange(event.target.value)}
				onBlur={props.commitOnBlur ? props.onCommit : undefined}
				onKeyDown={(event) => event.key === 'Enter' && !invalid && props.onCommit()}
				data-testid={props.testId}
			/>
		</label>
	);
}
