import type { Metadata } from 'next';
import { Suspense } from 'react';
import { ProfilesView } from '../../components/profiles/profiles-view.tsx';
import { ShareActions } from '../../components/share/share-actions.tsx';

export const metadata: Metadata = { title: 'Profiles' };

export default function ProfilesPage() {
	// The view reads the URL query; Suspense lets the static shell render without it.
	return (
		<Suspense fallback={<div className="empty-state">Loading…</div>}>
			<ShareActions />
			<ProfilesView />
		</Suspense>
	);
}
