'use client';

import { useCallback, useMemo, useState } from 'react';
import { api } from '../../lib/api.ts';
import { groupByCommand, histogramBuckets, type CommandEndpoint } from '../../lib/endpoint-groups.ts';
import { formatClock, formatInt, formatPercent, formatRate } from '../../lib/format.ts';
import { hostInput, isSelected } from '../../lib/host-selection.ts';
import { featureFailures } from '../../lib/live-messages.ts';
import { processRows, type HostRequest } from '../../lib/live-store.ts';
import type { TimeRange } from '../../lib/profile-query.ts';
import { endpointMatches, formatLatency, requestEndpointP99, requestKey, requestMatches, summarizeRecent } from '../../lib/requests.ts';
import type { SortState } from '../../lib/sort.ts';
import { useHostSelection, type HostSelectionHandle } from '../../lib/use-host-selection.ts';
import { useLiveHold } from '../../lib/use-live-hold.ts';
import { useRangeQuery, useRefreshTick } from '../../lib/use-range-query.ts';
import { EmptyState, NoCollectorState } from '../common/empty-state.tsx';
import { FilterToolbar } from '../common/filter-toolbar.tsx';
import { PageHead } from '../common/page-head.tsx';
import { Panel } from '../common/panel.tsx';
import { StatCard } from '../common/stat-card.tsx';
import { useLive } from '../live/live-provider.tsx';
import { TimeRangePicker } from '../profiles/time-range-picker.tsx';
import { VirtualTable } from '../table/virtual-table.tsx';
import { LatencyHistogram } from './latency-histogram.tsx';
import { ENDPOINT_COLUMNS, REQUEST_COLUMNS, REQUEST_HOST_COLUMN } from './request-columns.tsx';
import { RequestDrawer } from './request-drawer.tsx';
import './requests.css';

function useEndpoints(range: TimeRange, tick: number, selection: HostSelectionHandle) {
	return useRangeQuery(range, tick, selection.key, (fromMs, toMs, signal) =>
		api.requests.endpoints.query({ fromMs, toMs, ...hostInput(selection.hosts) }, { signal }),
	);
}

export function RequestsView() {
	const live = useLive();
	const now = live.clock;
	const [filter, setFilter] = useState('');
	const [sort, setSort] = useState<SortState>({ columnId: 'time', direction: 'desc' });
	const [endpointSort, setEndpointSort] = useState<SortState>({ columnId: 'count', direction: 'desc' });
	const [endpointFilter, setEndpointFilter] = useState('');
	const [range, setRange] = useState<TimeRange>({ kind: 'relative', preset: '15m' });
	const [selectedId, setSelectedId] = useState<string | null>(null);
	// The drawer's request stays open while newer requests push it out of the table.
	const [open, setOpen] = useState<HostRequest | null>(null);
	const openKey = open ? requestKey(open) : null;
	const closeDrawer = useCallback(() => setOpen(null), []);
	const tick = useRefreshTick(range);
	const selection = useHostSelection();
	const endpoints = useEndpoints(range, tick, selection);

	const needle = filter.trim().toLowerCase();
	const rows = useMemo(() => live.requests.filter((r) => isSelected(selection.hosts, r.host)), [live.requests, selection.hosts]);
	// Held before the filter, so a filter typed with the pointer on a row still applies.
	const hold = useLiveHold(rows);
	const visible = useMemo(() => hold.rows.filter((r) => requestMatches(r, needle)), [hold.rows, needle]);
	const hostCount = new Set(rows.map((r) => r.host)).size;
	const columns = useMemo(() => (hostCount > 1 ? [...REQUEST_COLUMNS, REQUEST_HOST_COLUMN] : REQUEST_COLUMNS), [hostCount]);
	const summary = useMemo(() => summarizeRecent(rows), [rows]);
	const processes = processRows(live.processes, now).filter((p) => isSelected(selection.hosts, p.host));
	const capturing = processes.some((p) => p.requestsPerSec !== undefined);
	const ratePerSec = processes.reduce((sum, p) => sum + (p.requestsPerSec ?? 0), 0);
	const lastRequest = rows.at(-1)?.ts ?? 0;

	// Grouped by command: 631 curl processes calling one endpoint are one row.
	const endpointRows = useMemo(() => groupByCommand(endpoints.data?.endpoints ?? []), [endpoints.data]);
	const endpointNeedle = endpointFilter.trim().toLowerCase();
	const shownEndpoints = useMemo(() => endpointRows.filter((e) => endpointMatches(e, endpointNeedle)), [endpointRows, endpointNeedle]);
	const selected = shownEndpoints.find((e) => e.id === selectedId) ?? shownEndpoints[0] ?? null;
	const selectedBuckets = useMemo(() => (selected ? histogramBuckets(selected.histogram) : []), [selected]);
	// The open request's endpoint p99 in its process: at or above it, the request is slow too.
	const openP99 = useMemo(() => (open ? requestEndpointP99(endpoints.data?.endpoints, open) : null), [open, endpoints.data]);

	const collectors = live.status?.hosts ?? [];
	const anyConnected = collectors.some((h) => h.connected);
	const tlsOff = featureFailures(collectors, 'tls');
	let empty;
	if (!live.everConnected) {
		empty = <EmptyState title="Connecting to the hub…" detail="Requests appear as soon as the live stream is up." />;
	} else if (collectors.length === 0 || !anyConnected) {
		empty = <NoCollectorState />;
	} else if (rows.length === 0 && ((processes.length > 0 && !capturing) || tlsOff.length > 0)) {
		const why =
			tlsOff.length > 0
				? `${tlsOff.join('; ')}. `
				: 'The collector could not load its TLS uprobes; look for `HTTPS request capture is off` in its log. ';
		empty = <EmptyState title="HTTPS capture is off on the collectors" detail={`${why}It needs root and a kernel with BTF.`} />;
	} else if (rows.length === 0) {
		empty = (
			<EmptyState
				title="No HTTPS requests yet"
				detail="Make one, e.g. `curl -k https://127.0.0.1:8443/`, against a server that uses OpenSSL (system libssl or Node). Requests show here within a second; secrets and query values are redacted."
			/>
		);
	} else {
		empty = (
			<EmptyState
				title={`No request matches “${filter.trim()}”`}
				detail="The filter looks at the PID, process, method, path, status and peer."
				action={{ label: 'Clear filter', onClick: () => setFilter('') }}
			/>
		);
	}

	let endpointEmpty;
	if (endpoints.error) endpointEmpty = <EmptyState tone="error" title="Endpoints could not be loaded" detail={endpoints.error} />;
	else if (!endpoints.data) endpointEmpty = <EmptyState title="Loading…" />;
	else
		endpointEmpty = (
			<EmptyState
				title="No endpoints stored in this range"
				detail="Endpoint statistics are stored per 10 s window; requests show here once their window ends. Pick a longer range to look further back."
			/>
		);

	return (
		<div className="page">
			<PageHead title="Requests">
				HTTPS requests processes make and serve, read from TLS plaintext{hostCount > 1 ? ` on ${hostCount} hosts` : ''}
				{lastRequest > 0 && <> · last {formatClock(lastRequest)}</>}
			</PageHead>

			<section className="stat-row stat-row-4" aria-label="Summary">
				<StatCard label="Requests/s" value={capturing ? formatRate(ratePerSec) : '–'} testId="stat-requests-rate" />
				<StatCard label="Recent requests" value={formatInt(summary.count)} />
				<StatCard label="5xx in recent" value={summary.count ? formatPercent(summary.errorRate * 100) : '–'} />
				<StatCard label="p99 of recent" value={summary.count ? formatLatency(summary.p99Ms) : '–'} />
			</section>

			<section className={`panel requests-live ${live.connection === 'open' ? '' : 'stale'}`} aria-busy={live.connection !== 'open'}>
				<FilterToolbar
					value={filter}
					onChange={setFilter}
					placeholder="Filter by PID, process, method, path, status or peer"
					what="requests"
					testId="request-filter"
				>
					{visible.length === hold.rows.length
						? `${formatInt(hold.rows.length)} recent requests`
						: `${formatInt(visible.length)} of ${formatInt(hold.rows.length)} recent requests`}{' '}
					{hold.held ? (
						<span data-testid="request-hold">· held while you are on a row, {formatInt(hold.newer)} newer waiting</span>
					) : (
						'· live, newest 1,000 kept'
					)}
				</FilterToolbar>
				<div {...hold.handlers}>
					<VirtualTable
						columns={columns}
						rows={visible}
						rowKey={requestKey}
						sort={sort}
						onSortChange={setSort}
						testId="request-table"
						caption="Recent HTTPS requests"
						empty={empty}
						maxHeight="420px"
						rowBehavior={(row) => ({
							testId: `request-row-${row.pid}`,
							title: 'Show its headers, sizes and timings',
							selected: openKey === requestKey(row),
							onActivate: () => setOpen(row),
						})}
					/>
				</div>
			</section>

			<section className="requests-bottom">
				<section className="panel requests-endpoints" aria-labelledby="endpoints-title">
					<div className="panel-head endpoints-head">
						<span className="panel-title" id="endpoints-title">
							Endpoints
						</span>
						<div className="endpoints-range" data-testid="endpoint-range">
							<TimeRangePicker range={range} onChange={setRange} />
						</div>
						<input
							type="search"
							className="input endpoint-filter"
							placeholder="Filter by command, method or endpoint"
							value={endpointFilter}
							onChange={(event) => setEndpointFilter(event.target.value)}
							data-testid="endpoint-filter"
							aria-label="Filter endpoints"
						/>
						{endpoints.data && endpointRows.length > 0 && (
							<span className="toolbar-note">
								{shownEndpoints.length === endpointRows.length
									? `${formatInt(endpointRows.length)} endpoints`
									: `${formatInt(shownEndpoints.length)} of ${formatInt(endpointRows.length)} endpoints`}{' '}
								· {formatInt(endpoints.data.windows)} windows · by command, server and client apart
							</span>
						)}
					</div>
					<VirtualTable
						columns={ENDPOINT_COLUMNS}
						rows={shownEndpoints}
						rowKey={(row) => row.id}
						sort={endpointSort}
						onSortChange={setEndpointSort}
						testId="endpoint-table"
						caption="Endpoints"
						empty={endpointEmpty}
						maxHeight="340px"
						rowBehavior={(row) => ({
							testId: `endpoint-row-${row.comm}-${row.role}`,
							selected: selected !== null && row.id === selected.id,
							title: 'Show its latency histogram',
							onActivate: () => setSelectedId(row.id),
						})}
					/>
				</section>
				<Panel
					title={
						<>
							Latency{selected ? ' of ' : ''}
							{selected && (
								<span className="mono" data-testid="histogram-endpoint">
									{selected.method} {selected.endpoint}
								</span>
							)}
						</>
					}
					note={selected && <EndpointNote endpoint={selected} />}
				>
					{selected && selected.count > 0 ? (
						<>
							<LatencyHistogram buckets={selectedBuckets} testId="latency-histogram" />
							<div className="latency-quantiles">
								{[
									['requests', formatInt(selected.count)],
									['p50', formatLatency(selected.p50Ms)],
									['p90', formatLatency(selected.p90Ms)],
									['p99', formatLatency(selected.p99Ms)],
									['max', formatLatency(selected.maxMs)],
								].map(([label, value]) => (
									<span key={label}>
										{label} <span className="mono">{value}</span>
									</span>
								))}
							</div>
						</>
					) : (
						<div className="chart-empty chart-empty-tall">
							{endpoints.error ??
								'Pick an endpoint to see its latency distribution (log2 buckets: each bar spans twice the time of the one before).'}
						</div>
					)}
				</Panel>
			</section>
			{open && <RequestDrawer request={open} p99Ms={openP99} onClose={closeDrawer} />}
		</div>
	);
}

function EndpointNote({ endpoint }: { endpoint: CommandEndpoint }) {
	return (
		<>
			{endpoint.comm || '?'} {endpoint.role === 'client' ? 'as client' : 'as server'} ·{' '}
			{endpoint.pids.length === 1 ? `pid ${endpoint.pids[0]}` : `${formatInt(endpoint.pids.length)} processes`}
		</>
	);
}
