import { diffColor } from '../../lib/diff-query.ts';

/** What the diff graph's colours mean: share of each side's total, comparison against baseline. */
export function DiffLegend() {
	const stops = [-1, -0.5, -0.1, 0, 0.1, 0.5, 1].map((change) => diffColor(change)).join(',');
	return (
		<div className="flame-legend" aria-label="Colours" data-testid="diff-legend">
			<span>
				faster (smaller share)
				<i style={{ background: `linear-gradient(90deg,${stops})`, width: 120 }} />
				slower (larger share)
			</span>
			<span className="dim">−100% … +100% and new</span>
		</div>
	);
}
