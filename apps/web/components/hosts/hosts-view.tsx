'use client';

import { useEffect, useMemo, useState } from 'react';
import { api, describeError } from '../../lib/api.ts';
import { isSelected, toggleHost } from '../../lib/host-selection.ts';
import { hostRows, type HostRow, type StoredHost } from '../../lib/hosts.ts';
import type { SortState } from '../../lib/sort.ts';
import { useHostSelection } from '../../lib/use-host-selection.ts';
import { useNow } from '../../lib/use-now.ts';
import { EmptyState, NoCollectorState } from '../common/empty-state.tsx';
import { PageHead } from '../common/page-head.tsx';
import { StatCard } from '../common/stat-card.tsx';
import { useLive } from '../live/live-provider.tsx';
import { DataTable } from '../table/data-table.tsx';
import { hostColumns } from './host-columns.tsx';

/** How often the stored hosts are asked for again; live status arrives by itself. */
const STORED_EVERY_MS = 30_000;

function useStoredHosts(): { hosts: StoredHost[] | null; error: string | null } {
	const [state, setState] = useState<{ hosts: StoredHost[] | null; error: string | null }>({ hosts: null, error: null });
	useEffect(() => {
		const controller = new AbortController();
		const load = () =>
			api.hosts.list
				.query(undefined, { signal: controller.signal })
				.then((hosts) => setState({ hosts, error: null }))
				.catch((err: unknown) => {
					if (!controller.signal.aborted) setState((s) => ({ ...s, error: describeError(err) }));
				});
		void load();
		const timer = setInterval(load, STORED_EVERY_MS);
		return () => {
			controller.abort();
			clearInterval(timer);
		};
	}, []);
	return state;
}

/** Every collector the hub knows: its state, version, rate, CPU, losses and features. */
export function HostsView() {
	const live = useLive();
	const now = useNow(1000);
	const stored = useStoredHosts();
	const selection = useHostSelection();
	const [sort, setSort] = useState<SortState>({ columnId: 'host', direction: 'asc' });
	const rows = useMemo(() => hostRows(live.status?.hosts ?? [], stored.hosts, live.processes), [live.status, stored.hosts, live.processes]);
	const columns = useMemo(() => hostColumns(now), [now]);
	const connected = rows.filter((r) => r.connected).length;
	const drops = rows.reduce((sum, r) => sum + r.drops, 0);
	const failing = rows.filter((r) => r.failed.length > 0).length;
	const known = rows.map((r) => r.host);

	let empty;
	if (!live.everConnected) empty = <EmptyState title="Connecting to the hub…" detail="Hosts appear as soon as the live stream is up." />;
	else empty = <NoCollectorState />;

	return (
		<div className="page">
			<PageHead title="Hosts">
				Every collector streaming to this hub, and the hosts with stored data
				{stored.error ? <span className="stale-note"> · stored hosts could not be loaded: {stored.error}</span> : null}
			</PageHead>
			<section className="stat-row" aria-label="Summary">
				<StatCard label="Connected" value={`${connected} / ${rows.length}`} testId="hosts-connected" />
				<StatCard label="Drops" value={String(drops)} testId="hosts-drops" />
				<StatCard label="Hosts with a feature off" value={String(failing)} />
			</section>
			<DataTable<HostRow>
				columns={columns}
				rows={rows}
				rowKey={(r) => r.host}
				sort={sort}
				onSortChange={setSort}
				testId="hosts-table"
				caption="Hosts"
				empty={empty}
				rowBehavior={(r) => ({
					testId: `host-row-${r.host}`,
					selected: selection.hosts.length > 0 && isSelected(selection.hosts, r.host),
					title: selection.hosts.includes(r.host)
						? 'Picked in the host selector; click to leave it out'
						: 'Click to show this host on every page (with the hosts already picked)',
					onActivate: () => selection.select(toggleHost(selection.hosts, r.host, known)),
				})}
			/>
		</div>
	);
}
