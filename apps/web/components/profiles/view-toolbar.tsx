import { useEffect, useRef } from 'react';
import type { SearchShare } from '../../lib/flame-search.ts';
import type { ColorMode } from '../../lib/frame-colors.ts';
import { formatInt, formatPercent } from '../../lib/format.ts';
import type { ProfileView } from '../../lib/profile-query.ts';

interface ViewToolbarProps {
	view: ProfileView;
	onView(view: ProfileView): void;
	search: string;
	onSearch(search: string): void;
	/** The share of samples under frames matching `search`; null without a search. */
	share: SearchShare | null;
	/** The graph's options; a page without them (a share) leaves them out. */
	colorMode?: ColorMode | undefined;
	onColorMode?(mode: ColorMode): void;
	groupByProcess?: boolean | undefined;
	onGroupByProcess?(on: boolean): void;
	groupByEndpoint?: boolean | undefined;
	onGroupByEndpoint?(on: boolean): void;
}

const VIEWS: { view: ProfileView; label: string }[] = [
	{ view: 'both', label: 'Both' },
	{ view: 'graph', label: 'Flame graph' },
	{ view: 'table', label: 'Top functions' },
];

/** Which panels to show, and the function search that both of them highlight. */
export function ViewToolbar({
	view,
	onView,
	search,
	onSearch,
	share,
	colorMode,
	onColorMode,
	groupByProcess,
	onGroupByProcess,
	groupByEndpoint,
	onGroupByEndpoint,
}: ViewToolbarProps) {
	const searchRef = useRef<HTMLInputElement>(null);
	// `/` jumps to the search, as on GitHub and in Grafana, unless it is being typed somewhere.
	useEffect(() => {
		const onKey = (event: KeyboardEvent) => {
			if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey) return;
			const target = event.target;
			if (target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return;
			event.preventDefault();
			searchRef.current?.focus();
			searchRef.current?.select();
		};
		window.addEventListener('keydown', onKey);
		return () => window.removeEventListener('keydown', onKey);
	}, []);
	return (
		<div className="panel-toolbar panel" style={{ borderBottom: '1px solid var(--border)' }}>
			<div className="segmented" role="group" aria-label="View">
				{VIEWS.map((option) => (
					<button
						key={option.view}
						type="button"
						aria-pressed={view === option.view}
						onClick={() => onView(option.view)}
						data-testid={`view-${option.view}`}
					>
						{option.label}
					</button>
				))}
			</div>
			<div className="search-box">
				<input
					ref={searchRef}
					type="search"
					title="Search functions (/); Esc resets the graph's zoom"
					className="input"
					placeholder="Search functions (e.g. malloc)"
					value={search}
					onChange={(event) => onSearch(event.target.value)}
					data-testid="flame-search"
					aria-label="Search functions"
				/>
			</div>
			{onColorMode && (
				<div className="segmented" role="group" aria-label="Colour frames by">
					<button
						type="button"
						aria-pressed={colorMode === 'kind'}
						onClick={() => onColorMode('kind')}
						data-testid="color-kind"
						title="Kernel blues, user native reds and oranges, JIT greens"
					>
						By kind
					</button>
					<button
						type="button"
						aria-pressed={colorMode === 'module'}
						onClick={() => onColorMode('module')}
						data-testid="color-module"
						title="One hue per module (binary or library)"
					>
						By module
					</button>
				</div>
			)}
			{onGroupByProcess && (
				<label className="toolbar-note" title="A comm (pid) level under each command, so each process gets its own column">
					<input
						type="checkbox"
						checked={groupByProcess === true}
						onChange={(event) => onGroupByProcess(event.target.checked)}
						data-testid="group-by-process"
					/>{' '}
					per process
				</label>
			)}
			{onGroupByEndpoint && (
				<label
					className="toolbar-note"
					title="An endpoint level under each process: the samples the TLS capture attributed to each endpoint it served"
				>
					<input
						type="checkbox"
						checked={groupByEndpoint === true}
						onChange={(event) => onGroupByEndpoint(event.target.checked)}
						data-testid="group-by-endpoint"
					/>{' '}
					per endpoint
				</label>
			)}
			<span
				className="search-share"
				data-testid="flame-search-share"
				data-matched={share?.matched}
				data-total={share?.total}
				// Counted by the hub on every sample, not only on the frames drawn.
				data-counted={share?.hidden !== undefined ? 'all' : 'drawn'}
				aria-live="polite"
			>
				{share ? (
					share.nodes === 0 && !share.hidden ? (
						<>No frame matches “{search.trim()}”</>
					) : (
						<>
							<strong>{formatPercent((100 * share.matched) / Math.max(1, share.total))}</strong> of{' '}
							{share.scope ? (
								<>
									samples in <span className="mono">{share.scope}</span>
								</>
							) : (
								'samples'
							)}{' '}
							match “{search.trim()}” ({formatInt(share.matched)} of {formatInt(share.total)}, {formatInt(share.nodes)}{' '}
							{share.nodes === 1 ? 'frame' : 'frames'}
							{share.hidden ? (
								<span title="Frames narrower than a pixel are merged into grey remainder nodes; zoom in to draw them">
									; {formatInt(share.hidden)} in frames too narrow to draw
								</span>
							) : null}
							)
						</>
					)
				) : (
					'Search highlights matching frames and shows their share of all samples'
				)}
			</span>
		</div>
	);
}
