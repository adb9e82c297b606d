import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { Suspense } from 'react';
import { SandwichView } from '../../../../components/sandwich/sandwich-view.tsx';
import { isShareId } from '../../../../lib/share-links.ts';

export const metadata: Metadata = { title: 'Sandwich' };

export default async function ShareSandwich({ params }: { params: Promise<{ id: string }> }) {
	const { id } = await params;
	if (!isShareId(id)) notFound();
	return (
		<Suspense fallback={<div className="empty-state">Loading…</div>}>
			<SandwichView shareId={id} />
		</Suspense>
	);
}
