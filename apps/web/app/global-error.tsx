'use client';

import './globals.css';

/** Last resort when the layout itself fails: plain markup, no providers. */
export default function GlobalError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
	return (
		<html lang="en">
			<body>
				<main className="app-main">
					<div className="empty-state empty-error" role="alert" data-testid="page-error">
						<div className="empty-title">Firesight could not load</div>
						<p className="empty-detail">{error.message || 'Unexpected error'}. Check that the hub is running, then try again.</p>
						<button type="button" className="button" onClick={reset}>
							Try again
						</button>
					</div>
				</main>
			</body>
		</html>
	);
}
