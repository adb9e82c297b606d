import type { FlameNode } from '@firesight/profile';
import { formatPercent } from '../../lib/format.ts';
import { NODE_PERF_MAP_HINT, unnamedNodeProcesses } from '../../lib/node-perf-map-hint.ts';

/** Says why Node's JavaScript shows as `[anon]` frames, and how to get names. */
export function NodePerfMapHint({ tree }: { tree: FlameNode }) {
	const unnamed = unnamedNodeProcesses(tree);
	if (unnamed.length === 0) return null;
	const worst = unnamed.reduce((a, b) => (b.anonSamples / b.samples > a.anonSamples / a.samples ? b : a));
	return (
		<div
			className="panel"
			role="note"
			data-testid="node-perf-map-hint"
			style={{ padding: '8px 14px', fontSize: 13, background: 'var(--warn-soft)', borderColor: 'rgba(224, 165, 38, 0.4)' }}
		>
			<strong>{formatPercent((100 * worst.anonSamples) / worst.samples)}</strong> of <span className="mono">{worst.comm}</span>’s samples
			are in unnamed <span className="mono">[anon]</span> code: {NODE_PERF_MAP_HINT}.
		</div>
	);
}
