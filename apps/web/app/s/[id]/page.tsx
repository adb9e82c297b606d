import type { Metadata } from 'next';
import { headers } from 'next/headers';
import { notFound } from 'next/navigation';
import { Suspense } from 'react';
import { ShareView } from '../../../components/share/share-view.tsx';
import { isShareId } from '../../../lib/share-links.ts';

export const metadata: Metadata = { title: 'Shared profile' };

// The hub looks the id up before the page renders and says so in this header.
const SHARE_MISSING_HEADER = 'x-firesight-share-missing';

export default async function SharePage({ params }: { params: Promise<{ id: string }> }) {
	const { id } = await params;
	// A real 404 (status and page) for an id of the wrong shape or one the hub does not have.
	if (!isShareId(id) || (await headers()).get(SHARE_MISSING_HEADER) !== null) notFound();
	return (
		<Suspense fallback={<div className="empty-state">Loading…</div>}>
			<ShareView id={id} />
		</Suspense>
	);
}
