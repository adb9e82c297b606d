import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { AppHeader } from '../components/layout/app-header.tsx';
import { ConnectionBanner } from '../components/layout/connection-banner.tsx';
import { LiveProvider } from '../components/live/live-provider.tsx';
import './globals.css';

export const metadata: Metadata = {
	title: { default: 'Firesight', template: '%s · Firesight' },
	description: 'Live eBPF observability for a Linux host: processes, CPU flame graphs.',
};

export const viewport: Viewport = {
	colorScheme: 'dark',
	themeColor: '#111217',
};

export default function RootLayout({ children }: { children: ReactNode }) {
	return (
		<html lang="en">
			<body>
				<LiveProvider>
					<AppHeader />
					<ConnectionBanner />
					<main className="app-main">{children}</main>
				</LiveProvider>
			</body>
		</html>
	);
}
