'use client';

import { select } from 'd3';
import flamegraph, { type FlameDatum, type FlameGraph as Chart, type FlameHierarchyNode, type FlameTooltip } from 'd3-flame-graph';
import { useEffect, useRef, useState } from 'react';
import { PROCESS_MODULE, type FlameNode } from '@firesight/profile';
import { cutName } from '../../lib/cut-name.ts';
import { matchesSearch, selfValue } from '../../lib/flame-search.ts';
import { formatInt, formatPercent } from '../../lib/format.ts';
import { frameColor, KIND_HUES, type ColorMode } from '../../lib/frame-colors.ts';
import type { Orientation } from '../../lib/profile-query.ts';

const CELL_HEIGHT = 18;
const HIGHLIGHT = '#d94cf0';
/** Remainder nodes: frames too narrow to draw, merged per parent on the hub. Not a frame colour. */
export const HIDDEN_FILL = '#c9ccd3';
/** The label's font (11.5px monospace) and margins, to turn a frame's width into characters. */
const LABEL_CHAR_PX = 7;
const LABEL_MARGIN_PX = 10;

interface FlameGraphProps {
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

function tooltipHtml(node: FlameHierarchyNode, rootValue: number): string {
	const data = node.data as FlameNode;
	const total = data.value;
	if (data.hidden !== undefined) {
		const pct = rootValue > 0 ? formatPercent((100 * total) / rootValue) : '–';
		return `<div class="tt-name">${formatInt(data.hidden)} frames too narrow to draw</div>
<div class="tt-module">merged on the hub; their samples still count in every total</div>
<table><tbody><tr><td>Total</td><td>${formatInt(total)} samples</td><td>${pct}</td></tr></tbody></table>
<div class="tt-hint">Click to zoom into the parent and draw them</div>`;
	}
	const self = selfValue(data);
	const pct = (value: number) => (rootValue > 0 ? formatPercent((100 * value) / rootValue) : '–');
	const where =
		node.depth === 0 ? 'every sampled process' : node.depth === 1 ? 'process (comm)' : [data.module, data.kind].filter(Boolean).join(' · ');
	return `<div class="tt-name">${escapeHtml(data.name)}</div>
<div class="tt-module">${escapeHtml(where || 'unknown module')}</div>
<table><tbody>
<tr><td>Total</td><td>${formatInt(total)} samples</td><td>${pct(total)}</td></tr>
<tr><td>Self</td><td>${formatInt(self)} samples</td><td>${pct(self)}</td></tr>
</tbody></table>
<div class="tt-hint">Click to zoom in</div>`;
}

/** Paints a flame tree with d3-flame-graph; every number it shows comes from the tree itself. */
export function FlameGraph({
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
	const tooltipRef = useRef<HTMLDivElement>(null);
	const chartRef = useRef<Chart | null>(null);
	const searchRef = useRef(search);
	const zoomRef = useRef(onZoomChange);
	const [width, setWidth] = useState(0);
	const zoomPathRef = useRef(zoomPath);
	searchRef.current = search;
	zoomRef.current = onZoomChange;
	zoomPathRef.current = zoomPath;
	const colorOfRef = useRef(colorOf);
	const tooltipOfRef = useRef(tooltipOf);
	colorOfRef.current = colorOf;
	tooltipOfRef.current = tooltipOf;

	useEffect(() => {
		const container = containerRef.current;
		if (!container) return;
		const observer = new ResizeObserver((entries) => {
			const next = Math.floor(entries[0]?.contentRect.width ?? 0);
			// Redrawing restarts the layout; skip sub-pixel jitter.
			setWidth((previous) => (Math.abs(previous - next) >= 4 ? next : previous));
		});
		observer.observe(container);
		return () => observer.disconnect();
	}, []);

	useEffect(() => {
		const container = containerRef.current;
		const tip = tooltipRef.current;
		if (!container || !tip || width <= 0) return;

		const rootValue = root.value;
		const tooltip = Object.assign(() => {}, {
			show(event: MouseEvent, node: FlameHierarchyNode) {
				tip.innerHTML = tooltipOfRef.current ? tooltipOfRef.current(node.data as FlameNode, rootValue) : tooltipHtml(node, rootValue);
				tip.style.display = 'block';
				place(event);
			},
			hide() {
				tip.style.display = 'none';
			},
		}) as FlameTooltip;
		const place = (event: MouseEvent) => {
			const margin = 14;
			const { offsetWidth, offsetHeight } = tip;
			const left = event.clientX + margin + offsetWidth > window.innerWidth ? event.clientX - margin - offsetWidth : event.clientX + margin;
			const top =
				event.clientY + margin + offsetHeight > window.innerHeight ? event.clientY - margin - offsetHeight : event.clientY + margin;
			tip.style.left = `${Math.max(4, left)}px`;
			tip.style.top = `${Math.max(4, top)}px`;
		};
		const onMove = (event: MouseEvent) => {
			if (tip.style.display === 'block') place(event);
		};
		container.addEventListener('mousemove', onMove);

		const chart = flamegraph()
			.width(width)
			.cellHeight(CELL_HEIGHT)
			.minFrameSize(1)
			.transitionDuration(200)
			.sort(false)
			.selfValue(false)
			.inverted(orientation === 'icicle')
			.tooltip(tooltip)
			// d3-flame-graph asks for the name for the frame's `name` attribute (kept whole, for
			// search and tests) and, with the label element as `this`, for the label's text: that
			// one is cut from the left to the frame's width, so the function's own name stays.
			.getName(function (this: unknown, node) {
				if (!(this instanceof HTMLElement)) return node.data.name;
				const px = Number(this.parentElement?.getAttribute('width') ?? 0);
				return cutName(node.data.name, Math.floor((px - LABEL_MARGIN_PX) / LABEL_CHAR_PX));
			})
			.getLibtype((node) => (node.data.kind === 'kernel' ? 'kernel' : node.data.kind === 'jit' ? 'jit' : undefined))
			.setColorMapper((node, original) => {
				if ((node.data as FlameNode).hidden !== undefined) return HIDDEN_FILL;
				if (node.highlight) return HIGHLIGHT;
				const fill = colorOfRef.current?.(node.data as FlameNode, original);
				if (fill) return fill;
				if (node.depth === 0) return '#5a5f6b';
				if (node.depth === 1) return '#6b7282';
				const data = node.data as FlameNode;
				if (data.module === PROCESS_MODULE) return '#7d8494';
				return frameColor(colorMode, data);
			})
			.setSearchMatch((node, term) => (node.data as FlameNode).hidden === undefined && matchesSearch(node.data.name, term))
			// Shares are computed from the tree by the page; the chart only highlights.
			.setSearchHandler(() => {})
			.setDetailsHandler(() => {})
			.onClick((node) => {
				// A remainder is no frame to zoom into: its parent is, and zooming there asks the hub
				// for the parent's subtree at full resolution, which draws what the remainder held.
				if ((node.data as FlameNode).hidden !== undefined && node.parent) {
					chart.zoomTo(node.parent);
					return;
				}
				zoomRef.current(
					node.depth === 0 ? null : node.data.name,
					node
						.ancestors()
						.reverse()
						.slice(1)
						.map((n) => n.data.name),
				);
			});

		// d3-flame-graph writes zoom state (fade, hide) into the data it paints: it gets its own copy,
		// so the query result stays as the hub sent it and each redraw starts unzoomed.
		const datum = structuredClone(root) as unknown as FlameDatum;
		select(container).datum(datum).call(chart);
		chartRef.current = chart;
		if (searchRef.current.trim()) chart.search(searchRef.current);
		const target = zoomTarget(select(container).datum() as FlameHierarchyNode, zoomPathRef.current);
		if (target) chart.zoomTo(target);
		else zoomRef.current(null);

		return () => {
			container.removeEventListener('mousemove', onMove);
			tooltip.hide();
			chart.destroy();
			chartRef.current = null;
		};
	}, [root, orientation, width, colorMode]);

	useEffect(() => {
		const chart = chartRef.current;
		if (!chart) return;
		if (search.trim()) chart.search(search);
		else chart.clear();
	}, [search]);

	// Esc resets the zoom, unless the key belongs to something being typed into.
	useEffect(() => {
		const onKey = (event: KeyboardEvent) => {
			if (event.key !== 'Escape' || isTyping(event.target) || !chartRef.current) return;
			chartRef.current.resetZoom();
			zoomRef.current(null);
		};
		window.addEventListener('keydown', onKey);
		return () => window.removeEventListener('keydown', onKey);
	}, []);

	useEffect(() => {
		if (resetKey === 0) return;
		chartRef.current?.resetZoom();
		zoomRef.current(null);
	}, [resetKey]);

	return (
		<>
			<div
				ref={containerRef}
				className="flame-container"
				data-testid="flame-graph"
				data-orientation={orientation}
				onMouseLeave={() => tooltipRef.current && (tooltipRef.current.style.display = 'none')}
			/>
			<div ref={tooltipRef} className="flame-tooltip" style={{ display: 'none' }} role="tooltip" data-testid="flame-tooltip" />
		</>
	);
}

/** Whether a key press goes to a field the user is typing in. */
export function isTyping(target: EventTarget | null): boolean {
	if (!(target instanceof HTMLElement)) return false;
	return target.isContentEditable || target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT';
}

/** The node at a path of names below the root, or null when the tree has no such path. */
function zoomTarget(root: FlameHierarchyNode, path: readonly string[] | undefined): FlameHierarchyNode | null {
	if (!path || path.length === 0) return null;
	let node: FlameHierarchyNode | undefined = root;
	for (const name of path) {
		node = (node.children as FlameHierarchyNode[] | undefined)?.find(
			(child) => child.data.name === name && (child.data as FlameNode).hidden === undefined,
		);
		if (!node) return null;
	}
	return node;
}

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
