import type { Metadata } from 'next';
import { Suspense } from 'react';
import { HostsView } from '../../components/hosts/hosts-view.tsx';

export const metadata: Metadata = { title: 'Hosts' };

export default function HostsPage() {
	// The view reads the host selection from the URL query.
	return (
		<Suspense fallback={<div className="empty-state">Loading…</div>}>
			<HostsView />
		</Suspense>
	);
}
