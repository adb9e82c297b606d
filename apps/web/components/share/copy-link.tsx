'use client';

import { useState } from 'react';

/** The full link of a path on this hub, in a field to select and a button that copies it. */
export function CopyLink({ path, testId = 'share-link' }: { path: string; testId?: string }) {
	const [copied, setCopied] = useState(false);
	const link = typeof window === 'undefined' ? path : `${window.location.origin}${path}`;
	return (
		<span className="copy-link" style={{ display: 'inline-flex', gap: 6 }}>
			<input
				className="input mono"
				readOnly
				value={link}
				onFocus={(event) => event.target.select()}
				data-testid={testId}
				aria-label="Share link"
				size={Math.min(60, link.length)}
			/>
			<button
				type="button"
				className="button"
				onClick={() => {
					// Clipboard access needs a secure context; the field stays selectable without it.
					navigator.clipboard?.writeText(link).then(
						() => setCopied(true),
						() => setCopied(false),
					);
				}}
				data-testid={`${testId}-copy`}
			>
				{copied ? 'Copied' : 'Copy link'}
			</button>
		</span>
	);
}
