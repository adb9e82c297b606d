import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { Suspense } from 'react';
import { SharedDiffPage } from '../../../../../components/diff/diff-page.tsx';
import { isShareId } from '../../../../../lib/share-links.ts';

export const metadata: Metadata = { title: 'Shared diff' };

export default async function SharedDiff({ params }: { params: Promise<{ id: string; other: string }> }) {
	const { id, other } = await params;
	if (!isShareId(id) || !isShareId(other)) notFound();
	return (
		<Suspense fallback={<div className="empty-state">Loading…</div>}>
			<SharedDiffPage baselineId={id} comparisonId={other} />
		</Suspense>
	);
}
