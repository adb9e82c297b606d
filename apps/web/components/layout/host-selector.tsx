'use client';

import { useEffect, useRef } from 'react';
import { selectionLabel, toggleHost } from '../../lib/host-selection.ts';
import { useHostSelection } from '../../lib/use-host-selection.ts';
import { useLive } from '../live/live-provider.tsx';

/**
 * Which hosts every page shows: one, several, or all merged. The choice lives in the URL
 * (`?host=a&host=b`), so links and reloads keep it.
 */
export function HostSelector() {
	const { status } = useLive();
	const { hosts, select } = useHostSelection();
	const menu = useRef<HTMLDetailsElement>(null);
	const known = [...new Set([...(status?.hosts ?? []).map((h) => h.host), ...hosts])].sort();
	const connected = new Set((status?.hosts ?? []).filter((h) => h.connected).map((h) => h.host));

	// A click elsewhere closes the menu, as a native select would.
	useEffect(() => {
		const close = (event: MouseEvent) => {
			if (menu.current?.open && !menu.current.contains(event.target as Node)) menu.current.open = false;
		};
		document.addEventListener('click', close);
		return () => document.removeEventListener('click', close);
	}, []);

	return (
		<details className="host-selector" ref={menu} data-testid="host-selector">
			<summary className="host-selector-button" aria-label={`Hosts shown: ${selectionLabel(hosts)}`}>
				<span className="status-label">Host</span>
				<span className="status-value" data-testid="host-selector-label">
					{selectionLabel(hosts)}
				</span>
			</summary>
			<div className="host-selector-menu" role="group" aria-label="Hosts shown">
				<label className="host-selector-option">
					<input type="checkbox" checked={hosts.length === 0} onChange={() => select([])} />
					<span>All hosts, merged</span>
				</label>
				{known.map((host) => (
					<label key={host} className="host-selector-option">
						<input type="checkbox" checked={hosts.includes(host)} onChange={() => select(toggleHost(hosts, host, known))} />
						<span className={`status-dot ${connected.has(host) ? 'status-ok' : ''}`} aria-hidden="true" />
						<span className="mono">{host}</span>
					</label>
				))}
				{known.length === 0 ? <div className="host-selector-empty">No collector has connected yet.</div> : null}
			</div>
		</details>
	);
}
