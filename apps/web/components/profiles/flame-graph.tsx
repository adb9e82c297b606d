'use client';

import { HIDDEN_FILL, HIGHLIGHT } from './flame-canvas.tsx';
import { KIND_HUES, type ColorMode } from '../../lib/frame-colors.ts';

// The dashboard's flame graph is painted on a canvas: d3-flame-graph's SVG took seconds at the
// hub's bounded tree size (bench/flame-paint.ts compares the two).
export { FlameCanvas as FlameGraph, escapeHtml, isTyping, HIDDEN_FILL, type FlameGraphProps } from './flame-canvas.tsx';

/** A legend swatch: the kind's family from one end of its spread to the other. */
function familyGradient(kind: keyof typeof KIND_HUES): string {
	const f = KIND_HUES[kind];
	const at = (hue: number) => `hsl(${hue}, ${f.saturation}%, ${f.lightness}%)`;
	return `linear-gradient(90deg,${at(f.hue - f.spread / 2)},${at(f.hue + f.spread / 2)})`;
}

export function FlameLegend({ colorMode = 'kind' }: { colorMode?: ColorMode | undefined }) {
	if (colorMode === 'module') {
		return (
			<div className="flame-legend" aria-label="Colours">
				<span>one hue per module</span>
				<span>
					<i style={{ background: HIGHLIGHT }} />
					match
				</span>
				<span title="Frames too narrow to draw, merged per parent; click to zoom in and draw them">
					<i style={{ background: HIDDEN_FILL }} />
					narrow frames
				</span>
			</div>
		);
	}
	return (
		<div className="flame-legend" aria-label="Colours">
			<span>
				<i style={{ background: familyGradient('user') }} />
				user
			</span>
			<span>
				<i style={{ background: familyGradient('kernel') }} />
				kernel
			</span>
			<span>
				<i style={{ background: familyGradient('jit') }} />
				JIT
			</span>
			<span>
				<i style={{ background: HIGHLIGHT }} />
				match
			</span>
			<span title="Frames too narrow to draw, merged per parent; click to zoom in and draw them">
				<i style={{ background: HIDDEN_FILL }} />
				narrow frames
			</span>
		</div>
	);
}
