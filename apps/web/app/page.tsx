import type { Metadata } from 'next';
import { Suspense } from 'react';
import { ProcessesView } from '../components/processes/processes-view.tsx';

export const metadata: Metadata = { title: 'Processes' };

export default function ProcessesPage() {
	// The view reads the host selection from the URL query.
	return (
		<Suspense fallback={<div className="empty-state">Loading…</div>}>
			<ProcessesView />
		</Suspense>
	);
}
