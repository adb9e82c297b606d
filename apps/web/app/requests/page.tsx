import type { Metadata } from 'next';
import { Suspense } from 'react';
import { RequestsView } from '../../components/requests/requests-view.tsx';

export const metadata: Metadata = { title: 'Requests' };

export default function RequestsPage() {
	// The view reads the host selection from the URL query.
	return (
		<Suspense fallback={<div className="empty-state">Loading…</div>}>
			<RequestsView />
		</Suspense>
	);
}
