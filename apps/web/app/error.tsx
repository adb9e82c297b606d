'use client';

import { useEffect } from 'react';
import { EmptyState } from '../components/common/empty-state.tsx';

/** Any render error in a page ends here: a readable message and a way out, never a stack trace. */
export default function PageError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
	useEffect(() => {
		console.error(error);
	}, [error]);
	return (
		<div className="page">
			<EmptyState
				tone="error"
				testId="page-error"
				title="This page hit a problem"
				detail={`${error.message || 'Unexpected error'}. Reload to try again; if it keeps happening, the hub log has details.`}
				action={{ label: 'Try again', onClick: reset }}
			/>
		</div>
	);
}
