import type { Metadata } from 'next';
import { Suspense } from 'react';
import { SandwichView } from '../../components/sandwich/sandwich-view.tsx';

export const metadata: Metadata = { title: 'Sandwich' };

export default function Sandwich() {
	return (
		<Suspense fallback={<div className="empty-state">Loading…</div>}>
			<SandwichView />
		</Suspense>
	);
}
