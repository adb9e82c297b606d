import { formatWarning, type QueryWarning } from '../../lib/profile-query.ts';

interface QueryWarningsProps {
	warnings: QueryWarning[];
	/** Rewrites the URL with only what the page honours. */
	onClean(): void;
}

/** Parameters of the link the page did not honour, so a bad link never silently shows something else. */
export function QueryWarnings({ warnings, onClean }: QueryWarningsProps) {
	if (warnings.length === 0) return null;
	return (
		<div className="query-warnings" role="status" data-testid="query-warnings">
			<span className="query-warnings-icon" aria-hidden>
				!
			</span>
			<ul className="query-warnings-list">
				{warnings.map((warning) => (
					<li key={`${warning.param}=${warning.value}|${warning.reason}`} data-testid="query-warning">
						{formatWarning(warning)}
					</li>
				))}
			</ul>
			<button
				type="button"
				className="button button-small"
				onClick={onClean}
				title="Rewrite the address with only the parameters this page uses"
				data-testid="query-warnings-clean"
			>
				Remove from link
			</button>
		</div>
	);
}
