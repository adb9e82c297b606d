import type { Metadata } from 'next';
import { Suspense } from 'react';
import { NetworkView } from '../../components/network/network-view.tsx';

export const metadata: Metadata = { title: 'Network' };

export default function NetworkPage() {
	// The view reads the host selection from the URL query.
	return (
		<Suspense fallback={<div className="empty-state">Loading…</div>}>
			<NetworkView />
		</Suspense>
	);
}
