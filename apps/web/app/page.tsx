import type { Metadata } from 'next';
import { ProcessesView } from '../components/processes/processes-view.tsx';

export const metadata: Metadata = { title: 'Processes' };

export default function ProcessesPage() {
	return <ProcessesView />;
}
