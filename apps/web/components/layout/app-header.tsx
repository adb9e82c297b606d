import Link from 'next/link';
import { Suspense } from 'react';
import { CollectorStatus } from './collector-status.tsx';
import { HostSelector } from './host-selector.tsx';
import { MainNav } from './main-nav.tsx';
import { Logo } from '../common/logo.tsx';

export function AppHeader() {
	return (
		<header className="app-header">
			<Link href="/" className="brand">
				<Logo />
				<span>Firesight</span>
			</Link>
			<MainNav />
			<div className="header-spacer" />
			<Suspense fallback={null}>
				<HostSelector />
			</Suspense>
			<CollectorStatus />
		</header>
	);
}
