'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { Suspense } from 'react';
import { withHostSelection } from '../../lib/host-selection.ts';
import { useHostSelection } from '../../lib/use-host-selection.ts';
import { NAV_ITEMS, isCurrent } from './nav-items.ts';

/** The sections; each link keeps the host selection, so moving between pages keeps the hosts shown. */
export function MainNav() {
	return (
		<Suspense fallback={<Nav query="" />}>
			<NavWithHosts />
		</Suspense>
	);
}

function NavWithHosts() {
	const { hosts } = useHostSelection();
	return <Nav query={withHostSelection(new URLSearchParams(), hosts).toString()} />;
}

function Nav({ query }: { query: string }) {
	const pathname = usePathname();
	return (
		<nav className="main-nav" aria-label="Sections">
			<ul>
				{NAV_ITEMS.map((item) => {
					const current = isCurrent(item, pathname);
					return (
						<li key={item.href}>
							<Link
								href={query ? `${item.href}?${query}` : item.href}
								className={current ? 'current' : undefined}
								aria-current={current ? 'page' : undefined}
							>
								{item.label}
							</Link>
						</li>
					);
				})}
			</ul>
		</nav>
	);
}
