import type { Metadata } from 'next';
import { Suspense } from 'react';
import { EndpointCpuView } from '../../components/endpoint-cpu/endpoint-cpu-view.tsx';

export const metadata: Metadata = { title: 'Endpoint CPU' };

export default function EndpointCpuPage() {
	// The view reads the endpoint, the process and the range from the URL query.
	return (
		<Suspense fallback={<div className="empty-state">Loading…</div>}>
			<EndpointCpuView />
		</Suspense>
	);
}
