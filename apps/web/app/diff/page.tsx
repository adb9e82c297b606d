import type { Metadata } from 'next';
import { Suspense } from 'react';
import { DiffPage } from '../../components/diff/diff-page.tsx';

export const metadata: Metadata = { title: 'Diff' };

export default function Diff() {
	return (
		<Suspense fallback={<div className="empty-state">Loading…</div>}>
			<DiffPage />
		</Suspense>
	);
}
