/** The header's sections, in order. A new page adds one entry here. */
export interface NavItem {
	href: string;
	label: string;
	/** Path prefixes that also mark this item as current (besides `href` itself). */
	match?: readonly string[];
}

export const NAV_ITEMS: readonly NavItem[] = [
	{ href: '/', label: 'Processes' },
	{ href: '/profiles', label: 'Profiles' },
	{ href: '/diff', label: 'Diff' },
	{ href: '/network', label: 'Network' },
	{ href: '/requests', label: 'Requests' },
	{ href: '/hosts', label: 'Hosts' },
];

export function isCurrent(item: NavItem, pathname: string): boolean {
	if (item.href === '/') return pathname === '/';
	return [item.href, ...(item.match ?? [])].some((prefix) => pathname === prefix || pathname.startsWith(`${prefix}/`));
}
