'use client';

import { useRouter } from 'next/navigation';
import { useMemo, useState } from 'react';
import { formatClock, formatCompact, formatPercent, formatRate } from '../../lib/format.ts';
import { isSelected } from '../../lib/host-selection.ts';
import { liveFreshness, staleNote } from '../../lib/freshness.ts';
import { processRows, type HostProcessRow } from '../../lib/live-store.ts';
import { profileHref } from '../../lib/profile-query.ts';
import type { SortState } from '../../lib/sort.ts';
import { useHostSelection } from '../../lib/use-host-selection.ts';
import { useLiveHold } from '../../lib/use-live-hold.ts';
import { EmptyState, NoCollectorState } from '../common/empty-state.tsx';
import { FilterToolbar } from '../common/filter-toolbar.tsx';
import { PageHead } from '../common/page-head.tsx';
import { StatCard } from '../common/stat-card.tsx';
import { useLive } from '../live/live-provider.tsx';
import { withoutIdleKernelThreads } from '../../lib/live-processes.ts';
import { VirtualTable } from '../table/virtual-table.tsx';
import { HOST_COLUMN, PROCESS_COLUMNS } from './process-columns.tsx';
import { ThroughputChart } from './throughput-chart.tsx';
import './processes.css';

function matches(row: HostProcessRow, needle: string): boolean {
	if (!needle) return true;
	return (
		String(row.pid) === needle ||
		row.comm.toLowerCase().includes(needle) ||
		row.cmdline.toLowerCase().includes(needle) ||
		row.host.toLowerCase().includes(needle)
	);
}

export function ProcessesView() {
	const live = useLive();
	const now = live.clock;
	const router = useRouter();
	const [filter, setFilter] = useState('');
	const [showIdleKernel, setShowIdleKernel] = useState(false);
	const [sort, setSort] = useState<SortState>({ columnId: 'cpu', direction: 'desc' });

	const { hosts: selected } = useHostSelection();
	const rows = useMemo(
		() => processRows(live.processes, now).filter((row) => isSelected(selected, row.host)),
		[live.processes, now, selected],
	);
	const needle = filter.trim().toLowerCase();
	// The table stands still while the pointer is on a row: sorted by CPU, it reorders every second.
	const hold = useLiveHold(rows);
	const kept = useMemo(() => withoutIdleKernelThreads(hold.rows, showIdleKernel), [hold.rows, showIdleKernel]);
	const visible = useMemo(() => kept.rows.filter((row) => matches(row, needle)), [kept, needle]);
	const hostCount = new Set(rows.map((row) => row.host)).size;
	const columns = useMemo(
		() => (hostCount > 1 ? [PROCESS_COLUMNS[0]!, HOST_COLUMN, ...PROCESS_COLUMNS.slice(1)] : PROCESS_COLUMNS),
		[hostCount],
	);
	const totalCpu = rows.reduce((sum, row) => sum + row.cpuPercent, 0);
	const totalSamples = rows.reduce((sum, row) => sum + row.samplesPerSec, 0);
	const freshness = liveFreshness(live.processes.values(), now);
	const stale = staleNote(freshness);
	const lastUpdate = freshness.lastReceivedAt ?? 0;
	const collectors = live.status?.hosts ?? [];

	let empty;
	if (!live.everConnected) {
		empty = <EmptyState title="Connecting to the hub…" detail="The process list appears as soon as the live stream is up." />;
	} else if (rows.length === 0 && collectors.length === 0) {
		empty = <NoCollectorState />;
	} else if (rows.length === 0) {
		empty = (
			<EmptyState title="Waiting for the first samples…" detail="The collector reports every second; processes using CPU show up here." />
		);
	} else {
		empty = (
			<EmptyState
				title={`No process matches “${filter.trim()}”`}
				detail="The filter looks at the PID, command and command line."
				action={{ label: 'Clear filter', onClick: () => setFilter('') }}
			/>
		);
	}

	return (
		<div className="page">
			<PageHead title="Processes">
				Live CPU use of every sampled process{hostCount > 1 ? ` on ${hostCount} hosts` : ''}
				{stale ? (
					<span className="stale-note" data-testid="live-stale-note">
						{' '}
						· {stale}
					</span>
				) : (
					lastUpdate > 0 && <span data-testid="live-updated"> · updated {formatClock(lastUpdate)}</span>
				)}
			</PageHead>

			<section className="stat-row" aria-label="Summary">
				<StatCard label="Processes" value={formatCompact(rows.length)} testId="stat-processes" />
				<StatCard label="Total CPU" value={formatPercent(totalCpu)} />
				<StatCard label="Samples/s" value={formatRate(totalSamples)} />
				<StatCard label="Samples/s, last 2 min">
					<ThroughputChart points={live.history} />
				</StatCard>
			</section>

			<section
				className={`panel ${live.connection === 'open' && !stale ? '' : 'stale'}`}
				aria-busy={live.connection !== 'open'}
				data-stale={stale ? 'true' : undefined}
			>
				<FilterToolbar
					value={filter}
					onChange={setFilter}
					placeholder="Filter by PID, command or command line"
					what="processes"
					testId="process-filter"
				>
					{visible.length === hold.rows.length ? `${hold.rows.length} processes` : `${visible.length} of ${hold.rows.length} processes`}{' '}
					{hold.held ? <span data-testid="process-hold">· held while you are on a row</span> : '· live'} · click a row to open its profile
					<label className="toolbar-toggle" title="Kernel threads that used no CPU and were not sampled in the last second">
						<input
							type="checkbox"
							checked={showIdleKernel}
							onChange={(event) => setShowIdleKernel(event.target.checked)}
							data-testid="show-idle-kernel-threads"
						/>{' '}
						Show idle kernel threads
						{!showIdleKernel && kept.hidden > 0 && (
							<span className="dim" data-testid="idle-kernel-hidden">
								{' '}
								({formatCompact(kept.hidden)} hidden)
							</span>
						)}
					</label>
				</FilterToolbar>
				<div {...hold.handlers}>
					<VirtualTable
						columns={columns}
						rows={visible}
						rowKey={(row) => `${row.host}:${row.pid}`}
						sort={sort}
						onSortChange={setSort}
						testId="process-table"
						caption="Processes"
						empty={empty}
						rowBehavior={(row) => ({
							testId: `process-row-${row.pid}`,
							title: `Open the CPU profile of ${row.comm} (${row.pid})`,
							onActivate: () => router.push(profileHref({ pid: row.pid, hosts: hostCount > 1 ? [row.host] : selected })),
						})}
					/>
				</div>
			</section>
		</div>
	);
}
