'use client';

import { useMemo, useState } from 'react';
import { api } from '../../lib/api.ts';
import { formatClock, formatCompact, formatInt, formatRate } from '../../lib/format.ts';
import { liveFreshness, staleNote } from '../../lib/freshness.ts';
import { hostInput, isSelected } from '../../lib/host-selection.ts';
import { featureFailures } from '../../lib/live-messages.ts';
import { connectionRows, endpoint, seriesStep, type ChartSeries, type HostConnectionRow } from '../../lib/network.ts';
import { resolveRange, type TimeRange } from '../../lib/profile-query.ts';
import { useRangeQuery, useRefreshTick } from '../../lib/use-range-query.ts';
import type { SortState } from '../../lib/sort.ts';
import { useHostSelection } from '../../lib/use-host-selection.ts';
import { EmptyState, NoCollectorState } from '../common/empty-state.tsx';
import { FilterToolbar } from '../common/filter-toolbar.tsx';
import { PageHead } from '../common/page-head.tsx';
import { Panel } from '../common/panel.tsx';
import { StatCard } from '../common/stat-card.tsx';
import { useLive } from '../live/live-provider.tsx';
import { TimeRangePicker } from '../profiles/time-range-picker.tsx';
import { VirtualTable } from '../table/virtual-table.tsx';
import { CONNECTION_COLUMNS, CONNECTION_HOST_COLUMN } from './connection-columns.tsx';
import { RetransmitChart } from './retransmit-chart.tsx';
import './network.css';

/** Lines drawn per chart; the rest are summed in the table, not drawn. */
const MAX_LINES = 8;

function matches(row: HostConnectionRow, needle: string): boolean {
	if (!needle) return true;
	return (
		String(row.pid) === needle ||
		row.comm.toLowerCase().includes(needle) ||
		endpoint(row.family, row.saddr, row.sport).includes(needle) ||
		endpoint(row.family, row.daddr, row.dport).includes(needle) ||
		row.state.toLowerCase().includes(needle)
	);
}

export function NetworkView() {
	const live = useLive();
	const now = live.clock;
	const [filter, setFilter] = useState('');
	const [sort, setSort] = useState<SortState>({ columnId: 'retransmits', direction: 'desc' });
	const [range, setRange] = useState<TimeRange>({ kind: 'relative', preset: '15m' });
	const tick = useRefreshTick(range);
	const selection = useHostSelection();
	const series = useRangeQuery(range, tick, selection.key, (fromMs, toMs, signal) =>
		api.network.series.query({ fromMs, toMs, stepMs: seriesStep(toMs - fromMs), ...hostInput(selection.hosts) }, { signal }),
	);

	const rows = useMemo(
		() => connectionRows(live.connections, now).filter((row) => isSelected(selection.hosts, row.host)),
		[live.connections, now, selection.hosts],
	);
	const needle = filter.trim().toLowerCase();
	const visible = useMemo(() => rows.filter((row) => matches(row, needle)), [rows, needle]);
	const hostCount = new Set(rows.map((row) => row.host)).size;
	const columns = useMemo(() => (hostCount > 1 ? [...CONNECTION_COLUMNS, CONNECTION_HOST_COLUMN] : CONNECTION_COLUMNS), [hostCount]);
	// The latest table of each host, however old: an old table is shown as old, not as none.
	const snapshots = [...live.connections.values()].filter((s) => isSelected(selection.hosts, s.host));
	const freshness = liveFreshness(snapshots, now);
	const stale = staleNote(freshness);
	const totals = snapshots.reduce(
		(sum, s) => ({
			open: sum.open + s.totals.openConnections,
			retransmits: sum.retransmits + s.totals.retransmits,
			rate: sum.rate + s.totals.retransmitsPerSecond,
			omitted: sum.omitted + s.omitted,
		}),
		{ open: 0, retransmits: 0, rate: 0, omitted: 0 },
	);
	const lastUpdate = freshness.lastReceivedAt ?? 0;
	const collectors = live.status?.hosts ?? [];
	const anyConnected = collectors.some((h) => h.connected);
	const tcpOff = featureFailures(collectors, 'tcp');

	let empty;
	if (!live.everConnected) {
		empty = <EmptyState title="Connecting to the hub…" detail="The connection table appears as soon as the live stream is up." />;
	} else if (collectors.length === 0 || !anyConnected) {
		empty = <NoCollectorState />;
	} else if (snapshots.length === 0 && tcpOff.length > 0) {
		empty = (
			<EmptyState title="TCP tracing is off on the collectors" detail={`${tcpOff.join('; ')}. It needs root and a kernel with BTF.`} />
		);
	} else if (snapshots.length === 0) {
		empty = (
			<EmptyState
				title="No TCP data from the collectors"
				detail="Collectors send their TCP connection table every second once TCP tracing is loaded. If this stays empty, look for `TCP tracing is off` in the collector's log (it needs root and a kernel with BTF)."
			/>
		);
	} else if (rows.length === 0) {
		empty = (
			<EmptyState
				title="No TCP connections yet"
				detail="Connections appear here as processes open them; those opened before the collector started show once they send or close."
			/>
		);
	} else {
		empty = (
			<EmptyState
				title={`No connection matches “${filter.trim()}”`}
				detail="The filter looks at the PID, process, addresses, ports and state."
				action={{ label: 'Clear filter', onClick: () => setFilter('') }}
			/>
		);
	}

	const { from, to } = resolveRange(range, now);
	const longRange = to - from > 36 * 3_600_000;
	// Built once per answer, so the charts (memoized) redraw when the data changes, not every second.
	const hostSeries = useMemo<ChartSeries[]>(
		() => (series.data?.hosts ?? []).slice(0, MAX_LINES).map((s) => ({ key: `h:${s.host}`, label: s.host, points: s.points })),
		[series.data],
	);
	const processSeries = useMemo<ChartSeries[]>(
		() =>
			(series.data?.processes ?? []).slice(0, MAX_LINES).map((s) => ({
				key: `p:${s.host}:${s.pid}`,
				label: `${s.comm || '?'} (${s.pid})${(series.data?.hosts.length ?? 0) > 1 ? ` · ${s.host}` : ''}`,
				points: s.points,
			})),
		[series.data],
	);
	const chartEmpty = (what: string) => (
		<div className="chart-empty">
			{series.error ??
				(series.data
					? `No retransmits stored in this range. ${what} are kept per 10 s window; a lossy connection shows here once its window ends.`
					: 'Loading…')}
		</div>
	);

	return (
		<div className="page">
			<PageHead title="Network">
				TCP connections and retransmits per process and peer{hostCount > 1 ? ` on ${hostCount} hosts` : ''}
				{stale ? (
					<span className="stale-note" data-testid="live-stale-note">
						{' '}
						· {stale}
					</span>
				) : (
					lastUpdate > 0 && <> · updated {formatClock(lastUpdate)}</>
				)}
			</PageHead>

			<section className="stat-row stat-row-4" aria-label="Summary">
				<StatCard label="Open connections" value={formatCompact(totals.open)} testId="stat-open-connections" />
				<StatCard label="Retransmits since collector start" value={formatInt(totals.retransmits)} testId="stat-retransmits" />
				<StatCard label="Retransmits/s" value={formatRate(totals.rate)} />
				<StatCard
					label="Processes retransmitting"
					value={formatInt(
						new Set(snapshots.flatMap((s) => s.processes.filter((p) => p.retransmits > 0).map((p) => `${s.host}:${p.pid}`))).size,
					)}
				/>
			</section>

			<div className="query-bar">
				<TimeRangePicker range={range} onChange={setRange} />
			</div>

			<section className="network-charts">
				<Panel title="Retransmits/s per host">
					{hostSeries.length > 0 && series.data ? (
						<RetransmitChart buckets={series.data.buckets} series={hostSeries} longRange={longRange} testId="chart-hosts" />
					) : (
						chartEmpty('Retransmits')
					)}
				</Panel>
				<Panel
					title="Retransmits/s per process"
					note={
						(series.data?.processes.length ?? 0) > MAX_LINES && (
							<>
								top {MAX_LINES} of {series.data?.processes.length}
							</>
						)
					}
				>
					{processSeries.length > 0 && series.data ? (
						<RetransmitChart buckets={series.data.buckets} series={processSeries} longRange={longRange} testId="chart-processes" />
					) : (
						chartEmpty('Retransmits')
					)}
				</Panel>
			</section>

			<section
				className={`panel ${live.connection === 'open' && !stale ? '' : 'stale'}`}
				aria-busy={live.connection !== 'open'}
				data-testid="connection-panel"
				data-stale={stale ? 'true' : undefined}
			>
				<FilterToolbar
					value={filter}
					onChange={setFilter}
					placeholder="Filter by PID, process, address, port or state"
					what="connections"
					testId="connection-filter"
				>
					{visible.length === rows.length ? `${rows.length} connections` : `${visible.length} of ${rows.length} connections`}
					{totals.omitted > 0 && ` (${formatInt(totals.omitted)} quiet ones not sent by the collector)`} · closed ones stay for a minute
				</FilterToolbar>
				<VirtualTable
					columns={columns}
					rows={visible}
					rowKey={(row) => `${row.host}:${row.cookie}:${row.key}`}
					sort={sort}
					onSortChange={setSort}
					testId="connection-table"
					caption="TCP connections"
					empty={empty}
					rowBehavior={(row) => ({ testId: `connection-row-${row.pid}-${row.dport}-${row.sport}` })}
				/>
			</section>
		</div>
	);
}
