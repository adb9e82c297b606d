'use client';

import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import type { FlameNode } from '@firesight/profile';
import { flameFills, HIDDEN_FILL, HIGHLIGHT } from '../../lib/flame-fills.ts';
import { selfValue } from '../../lib/flame-search.ts';
import { hitTest, layoutFlame, zoomTargetOf, type FlameRect } from '../../lib/flame-layout.ts';
import {
	DEFAULT_PAINT_STYLE,
	depthAt,
	flameHeight,
	paintFlame,
	paintOutline,
	rowTop,
	type FlamePaintStyle,
} from '../../lib/flame-paint.ts';
import { formatInt, formatPercent } from '../../lib/format.ts';
import type { ColorMode } from '../../lib/frame-colors.ts';
import type { Orientation } from '../../lib/profile-query.ts';

export { HIDDEN_FILL, HIGHLIGHT };

export interface FlameGraphProps {
	root: FlameNode;
	orientation: Orientation;
	search: string;
	/** Changes to this number reset the zoom (the "Reset zoom" button lives in the panel header). */
	resetKey: number;
	/** The zoomed frame's name, and its path of names from the process (comm) down. */
	onZoomChange(zoomed: string | null, path?: string[]): void;
	/** Zoom to this path (from the process down) whenever the graph is drawn, as a link asks. */
	zoomPath?: readonly string[] | undefined;
	/**
	 * A fill per node instead of the kind palette (the diff graph colours by change); `original` is
	 * the palette's, which a tree without root and process levels (the sandwich) keeps at every depth.
	 */
	colorOf?: ((data: FlameNode, original: string) => string | undefined) | undefined;
	/** The tooltip's HTML instead of the totals (HTML-escape names with `escapeHtml`). */
	tooltipOf?: ((data: FlameNode, rootValue: number) => string) | undefined;
	/** Fills by frame kind (the default) or by module. */
	colorMode?: ColorMode | undefined;
}

export function escapeHtml(text: string): string {
	return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Whether a key press goes to a field the user is typing in. */
export function isTyping(target: EventTarget | null): boolean {
	if (!(target instanceof HTMLElement)) return false;
	return target.isContentEditable || target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT';
}

function tooltipHtml(rect: FlameRect, rootValue: number): string {
	const data = rect.node;
	const total = data.value;
	const pct = (value: number) => (rootValue > 0 ? formatPercent((100 * value) / rootValue) : '–');
	if (data.hidden !== undefined) {
		return `<div class="tt-name">${formatInt(data.hidden)} frames too narrow to draw</div>
<div class="tt-module">merged on the hub; their samples still count in every total</div>
<table><tbody><tr><td>Total</td><td>${formatInt(total)} samples</td><td>${pct(total)}</td></tr></tbody></table>
<div class="tt-hint">Click to zoom into the parent and draw them</div>`;
	}
	const self = selfValue(data);
	const where =
		rect.depth === 0 ? 'every sampled process' : rect.depth === 1 ? 'process (comm)' : [data.module, data.kind].filter(Boolean).join(' · ');
	return `<div class="tt-name">${escapeHtml(data.name)}</div>
<div class="tt-module">${escapeHtml(where || 'unknown module')}</div>
<table><tbody>
<tr><td>Total</td><td>${formatInt(total)} samples</td><td>${pct(total)}</td></tr>
<tr><td>Self</td><td>${formatInt(self)} samples</td><td>${pct(self)}</td></tr>
</tbody></table>
<div class="tt-hint">${rect.ancestor ? 'Click to zoom out to it' : 'Click to zoom in'}</div>`;
}

/** What a screen reader hears for the selected frame. */
function describe(rect: FlameRect, rootValue: number): string {
	const share = rootValue > 0 ? `, ${formatPercent((100 * rect.node.value) / rootValue)}` : '';
	const name = rect.node.hidden !== undefined ? `${formatInt(rect.node.hidden)} frames too narrow to draw` : rect.node.name;
	return `${name}: ${formatInt(rect.node.value)} samples${share}`;
}

const keyOf = (path: readonly string[] | undefined) => (path ?? []).join('\u0000');

/**
 * Paints a flame tree on a canvas: d3-flame-graph's interaction (click to zoom, search
 * highlighting, a tooltip, Esc to reset) at the hub's bounded tree size, where an SVG element per
 * frame took seconds. Geometry is `layoutFlame`'s; this component schedules one paint per change.
 */
export function FlameCanvas({
	root,
	orientation,
	search,
	resetKey,
	onZoomChange,
	zoomPath,
	colorOf,
	tooltipOf,
	colorMode = 'kind',
}: FlameGraphProps) {
	const containerRef = useRef<HTMLDivElement>(null);
	const canvasRef = useRef<HTMLCanvasElement>(null);
	const overlayRef = useRef<HTMLCanvasElement>(null);
	const tooltipRef = useRef<HTMLDivElement>(null);
	const [width, setWidth] = useState(0);
	const [zoom, setZoom] = useState<readonly string[]>(() => zoomPath ?? []);
	const [selected, setSelected] = useState(-1);
	const [draws, setDraws] = useState(0);
	const hoverRef = useRef(-1);
	const zoomChangeRef = useRef(onZoomChange);
	zoomChangeRef.current = onZoomChange;
	const zoomPathRef = useRef(zoomPath);
	zoomPathRef.current = zoomPath;

	useEffect(() => {
		const container = containerRef.current;
		if (!container) return;
		const observer = new ResizeObserver((entries) => {
			const next = Math.floor(entries[0]?.contentRect.width ?? 0);
			// A relayout per sub-pixel jitter would repaint for nothing.
			setWidth((previous) => (Math.abs(previous - next) >= 4 ? next : previous));
		});
		observer.observe(container);
		return () => observer.disconnect();
	}, []);

	// A new tree starts at the zoom the page holds (a link's, or the grafted subtree's), as
	// d3-flame-graph redrew and zoomed; a page that holds none starts unzoomed.
	useEffect(() => {
		setZoom(zoomPathRef.current ?? []);
		setSelected(-1);
	}, [root]);
	const zoomPathKey = keyOf(zoomPath);
	useEffect(() => {
		if (zoomPathRef.current !== undefined) setZoom(zoomPathRef.current);
	}, [zoomPathKey]);

	const style: FlamePaintStyle = useMemo(() => ({ ...DEFAULT_PAINT_STYLE, orientation, font: labelFont() }), [orientation]);
	const zoomKey = keyOf(zoom);
	const layout = useMemo(
		() => layoutFlame(root, { width, zoom, minWidth: 1 }),
		// The zoom is read through its key: a new array with the same names lays out nothing new.
		// eslint-disable-next-line react-hooks/exhaustive-deps
		[root, width, zoomKey],
	);
	const resolvedKey = keyOf(layout.zoom);
	// Tell the page where the graph is zoomed, after every new tree too (a path it cannot find is
	// reported as no zoom, so the page drops it).
	useEffect(() => {
		const path = [...layout.zoom];
		zoomChangeRef.current(path.length === 0 ? null : path[path.length - 1]!, path.length === 0 ? undefined : path);
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [resolvedKey, root]);

	const term = search.trim();
	const { fills, matches } = useMemo(() => flameFills(layout, { search: term, colorMode, colorOf }), [layout, term, colorMode, colorOf]);

	const height = flameHeight(layout, style.cellHeight);

	// One paint per change, in the next animation frame; changes within a frame share it.
	const frame = useRef(0);
	useEffect(() => {
		cancelAnimationFrame(frame.current);
		frame.current = requestAnimationFrame(() => {
			const canvas = canvasRef.current;
			const overlay = overlayRef.current;
			if (!canvas || !overlay || layout.width <= 0) return;
			const dpr = window.devicePixelRatio || 1;
			for (const c of [canvas, overlay]) {
				c.width = Math.round(layout.width * dpr);
				c.height = Math.round(height * dpr);
			}
			const ctx = canvas.getContext('2d');
			if (!ctx) return;
			ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
			paintFlame(ctx, layout, (_, i) => fills[i]!, style);
			const octx = overlay.getContext('2d');
			octx?.setTransform(dpr, 0, 0, dpr, 0, 0);
			hoverRef.current = -1;
			setDraws((n) => n + 1);
		});
		return () => cancelAnimationFrame(frame.current);
	}, [layout, fills, style, height]);

	const outline = useCallback(
		(index: number) => {
			const ctx = overlayRef.current?.getContext('2d');
			if (ctx) paintOutline(ctx, layout, layout.rects[index] ?? null, style);
		},
		[layout, style],
	);

	const tipRect = useRef<FlameRect | null>(null);
	const showTooltip = useCallback(
		(rect: FlameRect, clientX: number, clientY: number) => {
			const tip = tooltipRef.current;
			if (!tip) return;
			if (tipRect.current !== rect || tip.style.display !== 'block') {
				tipRect.current = rect;
				tip.innerHTML = tooltipOf ? tooltipOf(rect.node, root.value) : tooltipHtml(rect, root.value);
			}
			tip.style.display = 'block';
			const margin = 14;
			const { offsetWidth, offsetHeight } = tip;
			const left = clientX + margin + offsetWidth > window.innerWidth ? clientX - margin - offsetWidth : clientX + margin;
			const top = clientY + margin + offsetHeight > window.innerHeight ? clientY - margin - offsetHeight : clientY + margin;
			tip.style.left = `${Math.max(4, left)}px`;
			tip.style.top = `${Math.max(4, top)}px`;
		},
		[tooltipOf, root],
	);
	const hideTooltip = () => {
		if (tooltipRef.current) tooltipRef.current.style.display = 'none';
	};

	// A new layout (zoom, tree, width) puts another frame under the pointer: the tooltip would
	// describe one no longer there until the pointer moves.
	useEffect(() => {
		tipRect.current = null;
		hideTooltip();
	}, [layout]);

	const rectAt = (clientX: number, clientY: number): FlameRect | null => {
		const canvas = canvasRef.current;
		if (!canvas) return null;
		const box = canvas.getBoundingClientRect();
		const y = clientY - box.top;
		if (y < 0 || y >= height) return null;
		return hitTest(layout, clientX - box.left, depthAt(layout, y, style));
	};

	const zoomTo = (rect: FlameRect) => {
		const target = zoomTargetOf(layout, rect);
		hideTooltip();
		setSelected(-1);
		setZoom(target ?? []);
		// Clicking the frame already zoomed tells the page again, as d3-flame-graph did.
		if (keyOf(target ?? []) === resolvedKey) zoomChangeRef.current(target ? target[target.length - 1]! : null, target ?? undefined);
	};

	const resetZoom = useCallback(() => {
		setZoom([]);
		setSelected(-1);
		hideTooltip();
	}, []);

	// Esc resets the zoom, unless the key belongs to something being typed into.
	useEffect(() => {
		const onKey = (event: KeyboardEvent) => {
			if (event.key !== 'Escape' || isTyping(event.target)) return;
			resetZoom();
		};
		window.addEventListener('keydown', onKey);
		return () => window.removeEventListener('keydown', onKey);
	}, [resetZoom]);

	useEffect(() => {
		if (resetKey !== 0) resetZoom();
	}, [resetKey, resetZoom]);

	// The keyboard moves a selection frame by frame; the tooltip and the live region follow it.
	const selectedRect = layout.rects[selected] ?? null;
	useEffect(() => {
		if (selected < 0 || !selectedRect) return;
		outline(selected);
		const box = canvasRef.current?.getBoundingClientRect();
		if (box)
			showTooltip(
				selectedRect,
				box.left + selectedRect.x + Math.min(selectedRect.width / 2, 40),
				box.top + rowTop(layout, selectedRect.depth, style),
			);
	}, [selected, selectedRect, layout, style, outline, showTooltip]);

	const onKeyDown = (event: ReactKeyboardEvent<HTMLCanvasElement>) => {
		const current = selectedRect ?? layout.rects[layout.focus];
		if (!current) return;
		const index = current.index;
		const row = layout.rows[current.depth] ?? [];
		const at = row.indexOf(index);
		const towardLeaves = () => layout.rows[current.depth + 1]?.find((i) => layout.rects[i]!.parent === index);
		let next: number | undefined;
		switch (event.key) {
			case 'ArrowLeft':
				next = row[at - 1];
				break;
			case 'ArrowRight':
				next = row[at + 1];
				break;
			case 'ArrowUp':
				next = orientation === 'icicle' ? (current.parent >= 0 ? current.parent : undefined) : towardLeaves();
				break;
			case 'ArrowDown':
				next = orientation === 'icicle' ? towardLeaves() : current.parent >= 0 ? current.parent : undefined;
				break;
			case 'Enter':
			case ' ':
				event.preventDefault();
				zoomTo(current);
				return;
			default:
				return;
		}
		event.preventDefault();
		setSelected(next ?? (selected < 0 ? index : selected));
	};

	return (
		<>
			<div
				ref={containerRef}
				className="flame-container"
				data-testid="flame-graph"
				data-orientation={orientation}
				onMouseLeave={() => {
					hideTooltip();
					hoverRef.current = -1;
					outline(selected);
				}}
			>
				<div className="flame-canvas-stack" style={{ width: layout.width, height }}>
					<canvas
						ref={canvasRef}
						className="flame-canvas"
						style={{ width: layout.width, height }}
						tabIndex={0}
						role="application"
						aria-roledescription="flame graph"
						aria-label={`${orientation === 'icicle' ? 'Icicle' : 'Flame'} graph of ${formatInt(root.value)} samples. Arrow keys move between frames, Enter zooms in, Escape zooms out. The top functions table lists every function.`}
						data-testid="flame-canvas"
						data-nodes={layout.rects.length}
						data-remainders={layout.remainders}
						data-matches={matches}
						data-rows={layout.rows.length}
						data-zoom={JSON.stringify(layout.zoom)}
						data-draws={draws}
						onMouseMove={(event) => {
							const rect = rectAt(event.clientX, event.clientY);
							const index = rect ? rect.index : -1;
							if (index !== hoverRef.current) {
								hoverRef.current = index;
								outline(index >= 0 ? index : selected);
							}
							if (rect) showTooltip(rect, event.clientX, event.clientY);
							else hideTooltip();
						}}
						onClick={(event) => {
							const rect = rectAt(event.clientX, event.clientY);
							if (rect) zoomTo(rect);
						}}
						onKeyDown={onKeyDown}
						onBlur={() => {
							setSelected(-1);
							hideTooltip();
							outline(-1);
						}}
					/>
					<canvas ref={overlayRef} className="flame-canvas-overlay" style={{ width: layout.width, height }} aria-hidden="true" />
				</div>
				<div className="visually-hidden" aria-live="polite" data-testid="flame-selection">
					{selectedRect ? describe(selectedRect, root.value) : ''}
				</div>
			</div>
			<div ref={tooltipRef} className="flame-tooltip" style={{ display: 'none' }} role="tooltip" data-testid="flame-tooltip" />
		</>
	);
}

/** The dashboard's monospace family, so canvas labels match the page's code font. */
function labelFont(): string {
	if (typeof document === 'undefined') return DEFAULT_PAINT_STYLE.font;
	const family = getComputedStyle(document.documentElement).getPropertyValue('--font-mono').trim();
	return family ? `11.5px ${family}` : DEFAULT_PAINT_STYLE.font;
}
