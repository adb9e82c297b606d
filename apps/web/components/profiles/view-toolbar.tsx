import type { SearchShare } from '../../lib/flame-search.ts';
import { formatInt, formatPercent } from '../../lib/format.ts';
import type { ProfileView } from '../../lib/profile-query.ts';

interface ViewToolbarProps {
	view: ProfileView;
	onView(view: ProfileView): void;
	search: string;
	onSearch(search: string): void;
	/** The share of samples under frames matching `search`; null without a search. */
	share: SearchShare | null;
}

const VIEWS: { view: ProfileView; label: string }[] = [
	{ view: 'both', label: 'Both' },
	{ view: 'graph', label: 'Flame graph' },
	{ view: 'table', label: 'Top functions' },
];

/** Which panels to show, and the function search that both of them highlight. */
export function ViewToolbar({ view, onView, search, onSearch, share }: ViewToolbarProps) {
	return (
		<div className="panel-toolbar panel" style={{ borderBottom: '1px solid var(--border)' }}>
			<div className="segmented" role="group" aria-label="View">
				{VIEWS.map((option) => (
					<button key={option.view} type="button" aria-pressed={view === option.view} onClick={() => onView(option.view)} data-testid={`view-${option.view}`}>
						{option.label}
					</button>
				))}
			</div>
			<div className="search-box">
				<input type="search" className="input" placeholder="Search functions (e.g. malloc)" value={search} onChange={(event) => onSearch(event.target.value)} data-testid="flame-search" aria-label="Search functions" />
			</div>
			<span className="search-share" data-testid="flame-search-share" aria-live="polite">
				{share ? (
					share.nodes === 0 ? (
						<>No frame matches “{search.trim()}”</>
					) : (
						<>
							<strong>{formatPercent((100 * share.matched) / Math.max(1, share.total))}</strong> of samples match “{search.trim()}” ({formatInt(share.matched)} of {formatInt(share.total)}, {formatInt(share.nodes)} {share.nodes === 1 ? 'frame' : 'frames'})
						</>
					)
				) : (
					'Search highlights matching frames and shows their share of all samples'
				)}
			</span>
		</div>
	);
}
