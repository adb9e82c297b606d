'use client';

import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useCallback, useMemo } from 'react';
import { parseHostSelection, withHostSelection } from './host-selection.ts';

export interface HostSelectionHandle {
	/** The selected hosts; empty for every host. */
	hosts: readonly string[];
	/** Changes in the selection, for query keys. */
	key: string;
	select(hosts: readonly string[]): void;
}

/** The host selector's state, read from and written to the page's URL (needs a Suspense boundary). */
export function useHostSelection(): HostSelectionHandle {
	const params = useSearchParams();
	const router = useRouter();
	const pathname = usePathname();
	const text = params.toString();
	const hosts = useMemo(() => parseHostSelection(new URLSearchParams(text)), [text]);
	const select = useCallback(
		(next: readonly string[]) => {
			const query = withHostSelection(new URLSearchParams(text), next).toString();
			router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
		},
		[router, pathname, text],
	);
	return { hosts, key: hosts.join('\n'), select };
}
