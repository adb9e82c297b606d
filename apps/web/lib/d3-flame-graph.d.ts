// d3-flame-graph 5 ships no types; this declares the part of its API the dashboard uses.
declare module 'd3-flame-graph' {
	import type { HierarchyRectangularNode } from 'd3';

	export interface FlameDatum {
		name: string;
		value: number;
		children?: FlameDatum[];
		kind?: string;
		module?: string;
		fade?: boolean;
		hide?: boolean;
	}

	export type FlameHierarchyNode = HierarchyRectangularNode<FlameDatum> & { highlight?: boolean; id: number };

	export interface FlameTooltip {
		(selection: unknown): void;
		show(event: MouseEvent, node: FlameHierarchyNode): void;
		hide(): void;
		destroy?(): void;
	}

	export interface FlameGraph {
		(selection: unknown): void;
		width(px: number): FlameGraph;
		height(px: number | null): FlameGraph;
		minHeight(px: number): FlameGraph;
		cellHeight(px: number): FlameGraph;
		minFrameSize(px: number): FlameGraph;
		transitionDuration(ms: number): FlameGraph;
		sort(enabled: boolean | ((a: FlameHierarchyNode, b: FlameHierarchyNode) => number)): FlameGraph;
		inverted(enabled: boolean): FlameGraph;
		selfValue(enabled: boolean): FlameGraph;
		tooltip(tooltip: FlameTooltip): FlameGraph;
		getName(fn: (node: FlameHierarchyNode) => string): FlameGraph;
		getLibtype(fn: (node: FlameHierarchyNode) => string | undefined): FlameGraph;
		setColorMapper(fn: (node: FlameHierarchyNode, originalColor: string) => string): FlameGraph;
		setSearchMatch(fn: (node: FlameHierarchyNode, term: string) => boolean): FlameGraph;
		setSearchHandler(fn: (results: FlameHierarchyNode[], sum: number, total: number) => void): FlameGraph;
		setDetailsHandler(fn: (text: string | null) => void): FlameGraph;
		onClick(fn: (node: FlameHierarchyNode) => void): FlameGraph;
		search(term: string): void;
		clear(): void;
		resetZoom(): void;
		zoomTo(node: FlameHierarchyNode): void;
		update(data?: FlameDatum): FlameGraph;
		destroy(): FlameGraph;
	}

	export default function flamegraph(): FlameGraph;
}
