'use client';

import { useCallback, useState } from 'react';
import { formatCompact, formatHz } from '../../lib/format.ts';
import { lostTotal } from '../../lib/drop-descriptions.ts';
import { useLive } from '../live/live-provider.tsx';
import { DropsPanel } from './drops-panel.tsx';

/** The header's summary of the fleet: hub link state, hosts, sample rate and drops. */
export function CollectorStatus() {
	const { connection, status } = useLive();
	const [dropsOpen, setDropsOpen] = useState(false);
	const closeDrops = useCallback(() => setDropsOpen(false), []);
	const hosts = status?.hosts ?? [];
	const connected = hosts.filter((host) => host.connected);
	const rates = [...new Set(connected.map((host) => host.frequencyHz).filter((rate) => rate > 0))];
	// Names cut or frames left unnamed are in the panel, not in this count of what was lost.
	const drops = hosts.reduce((sum, host) => sum + lostTotal(host.drops), 0);
	const health = connection !== 'open' ? 'down' : connected.length === 0 || connected.length < hosts.length ? 'warn' : 'ok';
	const hubLabel = connection === 'open' ? 'Live' : connection === 'connecting' ? 'Connecting…' : 'Hub offline';
	const rate =
		rates.length === 0
			? '–'
			: rates.length === 1
				? formatHz(rates[0] ?? 0)
				: `${formatHz(Math.min(...rates)).replace(' Hz', '')}–${formatHz(Math.max(...rates))}`;
	const details = hosts
		.map((host) => {
			const counters = Object.entries(host.drops)
				.filter(([, count]) => count > 0)
				.map(([name, count]) => `${name} ${formatCompact(count)}`)
				.join(', ');
			const off = (host.features?.failed ?? []).map((f) => `${f.name} off (${f.reason})`).join(', ');
			return `${host.host}: ${host.connected ? 'connected' : 'disconnected'}, ${formatHz(host.frequencyHz)}, drops ${counters || 'none'}${off ? `, ${off}` : ''}${host.version ? `, v${host.version}` : ''}`;
		})
		.join('\n');
	return (
		<div className="collector-status" data-testid="collector-status" data-health={health} title={details || hubLabel}>
			<span className="status-item">
				<span className={`status-dot status-${health}`} aria-hidden="true" />
				<span className="status-value">{hubLabel}</span>
			</span>
			<span className="status-item">
				<span className="status-label">Hosts</span>
				<span className="status-value" data-testid="status-hosts">
					{connected.length}
					{hosts.length > connected.length ? ` / ${hosts.length}` : ''}
				</span>
			</span>
			<span className="status-item">
				<span className="status-label">Sampling</span>
				<span className="status-value">{rate}</span>
			</span>
			<button
				type="button"
				className={`status-item status-button ${drops > 0 ? 'status-item-warn' : ''}`}
				onClick={() => setDropsOpen((open) => !open)}
				aria-expanded={dropsOpen}
				title="What was lost, cut or not named, counter by counter"
				data-testid="status-drops-button"
			>
				<span className="status-label">Drops</span>
				<span className="status-value" data-testid="status-drops">
					{formatCompact(drops)}
				</span>
			</button>
			{dropsOpen && <DropsPanel onClose={closeDrops} />}
		</div>
	);
}
