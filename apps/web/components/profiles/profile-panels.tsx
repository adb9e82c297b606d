'use client';

import { useState } from 'react';
import type { FlameResult } from '../../lib/api.ts';
import type { ColorMode } from '../../lib/frame-colors.ts';
import { formatInt } from '../../lib/format.ts';
import type { Orientation, ProfileView } from '../../lib/profile-query.ts';
import type { SortState } from '../../lib/sort.ts';
import { FlameGraph, FlameLegend } from './flame-graph.tsx';
import { TopFunctionsTable } from './top-functions-table.tsx';

interface ProfilePanelsProps {
	result: FlameResult;
	view: ProfileView;
	orientation: Orientation;
	onOrientation(orientation: Orientation): void;
	search: string;
	onSearch(search: string): void;
	/** Zoom and table order kept by the page (a share keeps them in its URL). */
	zoomPath?: readonly string[] | undefined;
	onZoomPath?(path: string[] | null): void;
	sort?: SortState | undefined;
	onSort?(sort: SortState): void;
	/** Where the sandwich view of a function opens (the page knows its query or share). */
	sandwichHref?: ((name: string) => string) | undefined;
	colorMode?: ColorMode | undefined;
}

/** Whether a zoom the graph reports is the one the page already holds (a redraw re-applying it, or none). */
function samePath(path: string[] | undefined, held: readonly string[] | undefined, name: string | null): boolean {
	const next = name === null ? [] : (path ?? []);
	return next.join('\u0000') === (held ?? []).join('\u0000');
}

/** The top functions table and the flame graph of one merged profile. */
export function ProfilePanels({
	result,
	view,
	orientation,
	onOrientation,
	search,
	onSearch,
	zoomPath,
	onZoomPath,
	sort,
	onSort,
	sandwichHref,
	colorMode,
}: ProfilePanelsProps) {
	const selected = sandwichHref && search && result.topFunctions.some((row) => row.name === search) ? search : null;
	const [zoomed, setZoomed] = useState<string | null>(null);
	const [resetKey, setResetKey] = useState(0);
	return (
		<div className={`profile-body view-${view}`}>
			{view !== 'graph' && (
				<section className="panel table-panel" aria-label="Top functions">
					<div className="panel-head">
						<span className="panel-title">Top functions</span>
						<span className="toolbar-note">{formatInt(result.functions)} functions · click one to find it in the graph</span>
						{selected && sandwichHref && (
							<a
								className="button button-small"
								href={sandwichHref(selected)}
								data-testid="table-sandwich"
								title="Its callers and callees, merged over every place it runs"
							>
								Sandwich of <span className="mono">{selected}</span>
							</a>
						)}
					</div>
					<TopFunctionsTable
						functions={result.topFunctions}
						totalSamples={result.totalSamples}
						search={search}
						onSelect={(name) => onSearch(name === search ? '' : name)}
						sort={sort}
						onSortChange={onSort}
					/>
				</section>
			)}
			{view !== 'table' && (
				<section className="panel graph-panel" aria-label="Flame graph">
					<div className="panel-head">
						<span className="panel-title">{orientation === 'icicle' ? 'Icicle graph' : 'Flame graph'}</span>
						<FlameLegend colorMode={colorMode} />
						<div className="custom-range">
							{zoomed && (
								<span className="toolbar-note ellipsis" style={{ maxWidth: 220 }} title={zoomed}>
									Zoomed: <span className="mono">{zoomed}</span>
								</span>
							)}
							{zoomed && sandwichHref && (
								<a
									className="button button-small"
									href={sandwichHref(zoomed)}
									data-testid="flame-sandwich"
									title="Callers and callees of the selected frame's function"
								>
									Sandwich
								</a>
							)}
							<button
								type="button"
								className="button button-small"
								disabled={!zoomed}
								onClick={() => setResetKey((value) => value + 1)}
								data-testid="flame-reset"
							>
								Reset zoom
							</button>
							<div className="segmented" role="group" aria-label="Orientation">
								<button
									type="button"
									aria-pressed={orientation === 'icicle'}
									onClick={() => onOrientation('icicle')}
									data-testid="orientation-icicle"
									title="Root at the top (icicle)"
								>
									Icicle
								</button>
								<button
									type="button"
									aria-pressed={orientation === 'flame'}
									onClick={() => onOrientation('flame')}
									data-testid="orientation-flame"
									title="Root at the bottom (flame)"
								>
									Flame
								</button>
							</div>
						</div>
					</div>
					<FlameGraph
						root={result.tree}
						colorMode={colorMode}
						orientation={orientation}
						search={search}
						resetKey={resetKey}
						zoomPath={zoomPath}
						onZoomChange={(name, path) => {
							setZoomed(name);
							if (!samePath(path, zoomPath, name)) onZoomPath?.(name === null ? null : (path ?? null));
						}}
					/>
				</section>
			)}
		</div>
	);
}
