'use client';

import { useMemo, useState } from 'react';
import type { EndpointSummary } from '@firesight/store';
import { api } from '../../lib/api.ts';
import { formatClock, formatInt, formatPercent, formatRate } from '../../lib/format.ts';
import { hostInput, isSelected } from '../../lib/host-selection.ts';
import { featureFailures } from '../../lib/live-messages.ts';
import { processRows } from '../../lib/live-store.ts';
import type { TimeRange } from '../../lib/profile-query.ts';
import { formatLatency, requestKey, requestMatches, summarizeRecent } from '../../lib/requests.ts';
import type { SortState } from '../../lib/sort.ts';
import { useHostSelection, type HostSelectionHandle } from '../../lib/use-host-selection.ts';
import { useNow } from '../../lib/use-now.ts';
import { useRangeQuery, useRefreshTick } from '../../lib/use-range-query.ts';
import { EmptyState, NoCollectorState } from '../common/empty-state.tsx';
import { FilterToolbar } from '../common/filter-toolbar.tsx';
import { PageHead } from '../common/page-head.tsx';
import { Panel } from '../common/panel.tsx';
import { StatCard } from '../common/stat-card.tsx';
import { useLive } from '../live/live-provider.tsx';
import { TimeRangePicker } from '../profiles/time-range-picker.tsx';
import { DataTable } from '../table/data-table.tsx';
import { LatencyHistogram } from './latency-histogram.tsx';
import { ENDPOINT_COLUMNS, REQUEST_COLUMNS, REQUEST_HOST_COLUMN } from './request-columns.tsx';
import './requests.css';

const endpointId = (e: Pick<EndpointSummary, 'host' | 'pid' | 'role' | 'method' | 'endpoint'>) =>
	`${e.host}|${e.pid}|${e.role}|${e.method}|${e.endpoint}`;

function useEndpoints(range: TimeRange, tick: number, selection: HostSelectionHandle) {
	return useRangeQuery(range, tick, selection.key, (fromMs, toMs, signal) =>
		api.requests.endpoints.query({ fromMs, toMs, ...hostInput(selection.hosts) }, { signal }),
	);
}

/** `selected` is read through its key: a refetched endpoint list must not refetch this. */
function useHistogram(range: TimeRange, tick: number, selected: EndpointSummary | null) {
	return useRangeQuery(range, tick, selected ? endpointId(selected) : null, (fromMs, toMs, signal) =>
		api.requests.histogram.query(
			{
				fromMs,
				toMs,
				host: selected!.host,
				pid: selected!.pid,
				role: selected!.role,
				method: selected!.method,
				endpoint: selected!.endpoint,
			},
			{ signal },
		),
	);
}

export function RequestsView() {
	const live = useLive();
	const now = useNow(1000);
	const [filter, setFilter] = useState('');
	const [sort, setSort] = useState<SortState>({ columnId: 'time', direction: 'desc' });
	const [endpointSort, setEndpointSort] = useState<SortState>({ columnId: 'count', direction: 'desc' });
	const [range, setRange] = useState<TimeRange>({ kind: 'relative', preset: '15m' });
	const [selectedId, setSelectedId] = useState<string | null>(null);
	const tick = useRefreshTick(range);
	const selection = useHostSelection();
	const endpoints = useEndpoints(range, tick, selection);

	const needle = filter.trim().toLowerCase();
	const rows = useMemo(() => live.requests.filter((r) => isSelected(selection.hosts, r.host)), [live.requests, selection.hosts]);
	const visible = useMemo(() => rows.filter((r) => requestMatches(r, needle)), [rows, needle]);
	const hostCount = new Set(rows.map((r) => r.host)).size;
	const columns = useMemo(() => (hostCount > 1 ? [...REQUEST_COLUMNS, REQUEST_HOST_COLUMN] : REQUEST_COLUMNS), [hostCount]);
	const summary = useMemo(() => summarizeRecent(rows), [rows]);
	const processes = processRows(live.processes, now).filter((p) => isSelected(selection.hosts, p.host));
	const capturing = processes.some((p) => p.requestsPerSec !== undefined);
	const ratePerSec = processes.reduce((sum, p) => sum + (p.requestsPerSec ?? 0), 0);
	const lastRequest = rows.at(-1)?.ts ?? 0;

	const endpointRows = endpoints.data?.endpoints ?? [];
	const selected = endpointRows.find((e) => endpointId(e) === selectedId) ?? endpointRows[0] ?? null;
	const histogram = useHistogram(range, tick, selected);

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
					{visible.length === rows.length
						? `${formatInt(rows.length)} recent requests`
						: `${formatInt(visible.length)} of ${formatInt(rows.length)} recent requests`}{' '}
					· live, newest 1,000 kept
				</FilterToolbar>
				<DataTable
					columns={columns}
					rows={visible}
					rowKey={requestKey}
					sort={sort}
					onSortChange={setSort}
					testId="request-table"
					caption="Recent HTTPS requests"
					empty={empty}
					limit={200}
					rowBehavior={(row) => ({ testId: `request-row-${row.pid}` })}
				/>
			</section>

			<div className="query-bar">
				<TimeRangePicker range={range} onChange={setRange} />
			</div>

			<section className="requests-bottom">
				<Panel
					title="Endpoints"
					className="requests-endpoints"
					note={
						endpoints.data &&
						endpointRows.length > 0 && (
							<>
								{formatInt(endpointRows.length)} endpoints · {formatInt(endpoints.data.windows)} windows
							</>
						)
					}
				>
					<DataTable
						columns={ENDPOINT_COLUMNS}
						rows={endpointRows}
						rowKey={endpointId}
						sort={endpointSort}
						onSortChange={setEndpointSort}
						testId="endpoint-table"
						caption="Endpoints"
						empty={endpointEmpty}
						limit={300}
						rowBehavior={(row) => ({
							selected: selected !== null && endpointId(row) === endpointId(selected),
							title: 'Show its latency histogram',
							onActivate: () => setSelectedId(endpointId(row)),
						})}
					/>
				</Panel>
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
					note={
						selected && (
							<>
								{selected.comm || '?'} ({selected.pid}){selected.role === 'client' ? ', as client' : ''}
							</>
						)
					}
				>
					{histogram.data && histogram.data.count > 0 ? (
						<>
							<LatencyHistogram buckets={histogram.data.buckets} testId="latency-histogram" />
							<div className="latency-quantiles">
								{[
									['requests', formatInt(histogram.data.count)],
									['p50', formatLatency(histogram.data.p50Ms)],
									['p90', formatLatency(histogram.data.p90Ms)],
									['p99', formatLatency(histogram.data.p99Ms)],
									['max', formatLatency(histogram.data.maxMs)],
								].map(([label, value]) => (
									<span key={label}>
										{label} <span className="mono">{value}</span>
									</span>
								))}
							</div>
						</>
					) : (
						<div className="chart-empty chart-empty-tall">
							{histogram.error ??
								(selected
									? 'Loading…'
									: 'Pick an endpoint to see its latency distribution (log2 buckets: each bar spans twice the time of the one before).')}
						</div>
					)}
				</Panel>
			</section>
		</div>
	);
}
