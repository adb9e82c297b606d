/// <reference lib="dom" />
import { cutName } from './cut-name.ts';
import type { FlameLayout, FlameRect } from './flame-layout.ts';

export type FlameOrientation = 'flame' | 'icicle';

export interface FlamePaintStyle {
	cellHeight: number;
	orientation: FlameOrientation;
	/** A CSS font with a monospace family: labels are cut by character count. */
	font: string;
	labelColor: string;
	/** Ancestors of the zoomed frame are drawn at this opacity. */
	fadeAlpha: number;
	hoverColor: string;
	/** Labels go on frames at least this wide (px), as d3-flame-graph's 35. */
	minLabelWidth: number;
	labelMargin: number;
}

export const DEFAULT_PAINT_STYLE: FlamePaintStyle = {
	cellHeight: 18,
	orientation: 'icicle',
	font: '11.5px monospace',
	labelColor: '#16120e',
	fadeAlpha: 0.45,
	hoverColor: '#ffffff',
	minLabelWidth: 35,
	labelMargin: 5,
};

/** The drawing's height in CSS pixels: one row per depth drawn. */
export function flameHeight(layout: FlameLayout, cellHeight: number): number {
	return Math.max(1, layout.rows.length) * cellHeight;
}

/** The top of a row, root at the top (icicle) or at the bottom (flame). */
export function rowTop(layout: FlameLayout, depth: number, style: Pick<FlamePaintStyle, 'cellHeight' | 'orientation'>): number {
	const rows = Math.max(1, layout.rows.length);
	return (style.orientation === 'icicle' ? depth : rows - 1 - depth) * style.cellHeight;
}

/** The row under a y (CSS px from the drawing's top). */
export function depthAt(layout: FlameLayout, y: number, style: Pick<FlamePaintStyle, 'cellHeight' | 'orientation'>): number {
	const row = Math.floor(y / style.cellHeight);
	return style.orientation === 'icicle' ? row : Math.max(1, layout.rows.length) - 1 - row;
}

/**
 * Paints a laid-out flame tree on a 2D context already scaled to CSS pixels. Only paints:
 * geometry comes from `layoutFlame`, colours from `fillOf`. One pass, no per-frame state kept.
 */
export function paintFlame(
	ctx: CanvasRenderingContext2D,
	layout: FlameLayout,
	fillOf: (rect: FlameRect, index: number) => string,
	style: FlamePaintStyle,
): void {
	const height = flameHeight(layout, style.cellHeight);
	ctx.clearRect(0, 0, layout.width, height);
	ctx.font = style.font;
	ctx.textBaseline = 'middle';
	const charWidth = ctx.measureText('MMMMMMMMMM').width / 10 || 7;
	const h = style.cellHeight - 1;
	const labels: { index: number; x: number; y: number; text: string }[] = [];
	let faded = false;
	for (let i = 0; i < layout.rects.length; i++) {
		const rect = layout.rects[i]!;
		const y = rowTop(layout, rect.depth, style);
		if (rect.ancestor !== faded) {
			faded = rect.ancestor;
			ctx.globalAlpha = faded ? style.fadeAlpha : 1;
		}
		ctx.fillStyle = fillOf(rect, i);
		// A pixel of background between neighbours once they are wide enough to spare it.
		ctx.fillRect(rect.x, y, rect.width > 3 ? rect.width - 0.5 : rect.width, h);
		if (rect.width >= style.minLabelWidth) {
			const chars = Math.floor((rect.width - 2 * style.labelMargin) / charWidth);
			const text = cutName(rect.node.name, chars);
			if (text) labels.push({ index: i, x: rect.x + style.labelMargin, y: y + h / 2 + 0.5, text });
		}
	}
	// Text after every fill: switching between fills and text costs more than one pass each.
	ctx.fillStyle = style.labelColor;
	for (const label of labels) {
		ctx.globalAlpha = layout.rects[label.index]!.ancestor ? style.fadeAlpha + 0.2 : 1;
		ctx.fillText(label.text, label.x, label.y);
	}
	ctx.globalAlpha = 1;
}

/**
 * Outlines the hovered or keyboard-selected frame, on an overlay of the same size: moving the
 * pointer then repaints one outline, not twenty thousand frames.
 */
export function paintOutline(ctx: CanvasRenderingContext2D, layout: FlameLayout, rect: FlameRect | null, style: FlamePaintStyle): void {
	ctx.clearRect(0, 0, layout.width, flameHeight(layout, style.cellHeight));
	if (!rect) return;
	ctx.strokeStyle = style.hoverColor;
	ctx.lineWidth = 1;
	ctx.strokeRect(rect.x + 0.5, rowTop(layout, rect.depth, style) + 0.5, Math.max(1, rect.width - 1.5), style.cellHeight - 2);
}
