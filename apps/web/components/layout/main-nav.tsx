'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { NAV_ITEMS, isCurrent } from './nav-items.ts';

export function MainNav() {
	const pathname = usePathname();
	return (
		<nav className="main-nav" aria-label="Sections">
			<ul>
				{NAV_ITEMS.map((item) => {
					const current = isCurrent(item, pathname);
					return (
						<li key={item.href}>
							<Link href={item.href} className={current ? 'current' : undefined} aria-current={current ? 'page' : undefined}>
								{item.label}
							</Link>
						</li>
					);
				})}
			</ul>
		</nav>
	);
}
