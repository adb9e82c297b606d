'use client';

import { useEffect, useState } from 'react';
import { RANGE_PRESETS, resolveRange, type TimeRange } from '../../lib/profile-query.ts';

/** `datetime-local` wants local wall-clock time without a zone. */
function toLocalInput(ms: number): string {
	const date = new Date(ms);
	const pad = (n: number) => String(n).padStart(2, '0');
	return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

function fromLocalInput(text: string): number | null {
	const ms = new Date(text).getTime();
	return Number.isNaN(ms) ? null : ms;
}

interface TimeRangePickerProps {
	range: TimeRange;
	onChange(range: TimeRange): void;
}

export function TimeRangePicker({ range, onChange }: TimeRangePickerProps) {
	const [custom, setCustom] = useState(range.kind === 'absolute');
	const [draft, setDraft] = useState(() => {
		const { from, to } = resolveRange(range, Date.now());
		return { from: toLocalInput(from), to: toLocalInput(to) };
	});

	useEffect(() => {
		if (range.kind === 'absolute') {
			setCustom(true);
			setDraft({ from: toLocalInput(range.from), to: toLocalInput(range.to) });
		}
	}, [range]);

	const from = fromLocalInput(draft.from);
	const to = fromLocalInput(draft.to);
	const valid = from !== null && to !== null && from < to;

	return (
		<div className="field">
			<span className="field-label">Time range</span>
			<div className="custom-range">
				<div className="segmented" role="group" aria-label="Time range">
					{RANGE_PRESETS.map((preset) => (
						<button
							key={preset.id}
							type="button"
							aria-pressed={!custom && range.kind === 'relative' && range.preset === preset.id}
							data-testid={`range-${preset.id}`}
							onClick={() => {
								setCustom(false);
								onChange({ kind: 'relative', preset: preset.id });
							}}
							title={preset.label}
						>
							{preset.short}
						</button>
					))}
					<button
						type="button"
						aria-pressed={custom}
						data-testid="range-custom"
						onClick={() => {
							if (!custom) {
								const resolved = resolveRange(range, Date.now());
								setDraft({ from: toLocalInput(resolved.from), to: toLocalInput(resolved.to) });
							}
							setCustom(true);
						}}
					>
						Custom
					</button>
				</div>
				{custom && (
					<form
						className="custom-range"
						onSubmit={(event) => {
							event.preventDefault();
							if (valid) onChange({ kind: 'absolute', from, to });
						}}
					>
						<input
							type="datetime-local"
							step={1}
							className={`input ${from === null ? 'invalid' : ''}`}
							value={draft.from}
							onChange={(event) => setDraft({ ...draft, from: event.target.value })}
							aria-label="From"
							data-testid="range-from"
						/>
						<span className="dim">to</span>
						<input
							type="datetime-local"
							step={1}
							className={`input ${to === null || !valid ? 'invalid' : ''}`}
							value={draft.to}
							onChange={(event) => setDraft({ ...draft, to: event.target.value })}
							aria-label="To"
							data-testid="range-to"
						/>
						<button
							type="submit"
							className="button button-small"
							disabled={!valid}
							title={valid ? 'Show this range' : 'The start must come before the end'}
						>
							Apply
						</button>
					</form>
				)}
			</div>
		</div>
	);
}
