import Link from 'next/link';
import type { CommandEndpoint } from '../../lib/endpoint-groups.ts';
import { formatClock, formatPercent, formatRate, formatInt } from '../../lib/format.ts';
import type { HostRequest } from '../../lib/live-store.ts';
import { profileHref } from '../../lib/profile-query.ts';
import { formatLatency, statusTone } from '../../lib/requests.ts';
import { amountColumn, type Column } from '../table/column.ts';
import { hostColumn } from '../table/host-column.tsx';
import { EndpointActions } from './endpoint-actions.tsx';

export function StatusBadge({ status }: { status: number }) {
	return <span className={`badge status-badge status-${statusTone(status)}`}>{status || '–'}</span>;
}

function Process({ comm, pid }: { comm: string; pid: number }) {
	return (
		<span className="ellipsis">
			<span className="mono strong">{comm || '?'}</span>{' '}
			<Link href={profileHref({ pid })} className="mono dim" title="Open its CPU profile" onClick={(event) => event.stopPropagation()}>
				{pid}
			</Link>
		</span>
	);
}

/** The live request table's columns. */
export const REQUEST_COLUMNS: readonly Column<HostRequest>[] = [
	{
		id: 'time',
		header: 'Time',
		description: 'When the first request byte was seen.',
		width: '6.5rem',
		firstSort: 'desc',
		value: (row) => row.ts,
		render: (row) => <span className="mono dim">{formatClock(row.ts)}</span>,
	},
	{
		id: 'process',
		header: 'Process',
		description: 'The process that made (client) or served (server) the request.',
		width: '11rem',
		value: (row) => row.comm,
		render: (row) => <Process comm={row.comm} pid={row.pid} />,
	},
	{
		id: 'role',
		header: 'Side',
		description:
			'client: the process sent the request; server: it answered it. A request between two traced processes shows once per side.',
		width: '5.5rem',
		value: (row) => row.role,
		render: (row) => <span className="dim">{row.role}</span>,
	},
	{
		id: 'method',
		header: 'Method',
		width: '6.5rem',
		value: (row) => row.method,
		render: (row) => (
			<span className="mono strong" data-testid="request-method">
				{row.method}
			</span>
		),
	},
	{
		id: 'path',
		header: 'Path',
		description: 'The request target; query values are redacted by the collector.',
		value: (row) => row.path,
		render: (row) => (
			<span className="mono ellipsis" title={row.path} data-testid="request-path">
				{row.path}
			</span>
		),
	},
	{
		id: 'status',
		header: 'Status',
		width: '6rem',
		align: 'right',
		value: (row) => row.status,
		render: (row) => (
			<span data-testid="request-status">
				<StatusBadge status={row.status} />
			</span>
		),
	},
	amountColumn({
		id: 'latency',
		header: 'Latency',
		description: 'First request byte to last response byte, from kernel timestamps.',
		width: '6.5rem',
		value: (row) => row.latencyMs,
		render: (row) => <span className="mono">{formatLatency(row.latencyMs)}</span>,
	}),
	{
		id: 'remote',
		header: 'Peer',
		description: 'The other end of the connection; "?" when the TLS session could not be tied to its socket.',
		width: '10rem',
		value: (row) => row.remote ?? '',
		render: (row) => <span className="mono dim ellipsis">{row.remote ?? '?'}</span>,
	},
];

export const REQUEST_HOST_COLUMN = hostColumn<HostRequest>('8rem');

/** The endpoint table's columns: per command and side, stored windows merged over the picked range. */
export const ENDPOINT_COLUMNS: readonly Column<CommandEndpoint>[] = [
	{
		id: 'process',
		header: 'Command',
		description: 'The command (comm) that made or served the requests, all its processes together.',
		width: '10rem',
		value: (row) => row.comm,
		render: (row) => (
			<span className="ellipsis" title={`pid ${row.pids.join(', ')}`}>
				<span className="mono strong" data-testid="endpoint-comm">
					{row.comm || '?'}
				</span>{' '}
				{row.pids.length === 1 ? (
					<Link
						href={profileHref({ pid: row.pids[0] })}
						className="mono dim"
						title="Open its CPU profile"
						onClick={(event) => event.stopPropagation()}
					>
						{row.pids[0]}
					</Link>
				) : (
					<span className="dim" data-testid="endpoint-pids">
						{formatInt(row.pids.length)} pids
					</span>
				)}
			</span>
		),
	},
	{
		id: 'role',
		header: 'Side',
		description: 'server: the command answered these requests; client: it sent them.',
		width: '5.5rem',
		value: (row) => row.role,
		render: (row) => (
			<span className={row.role === 'client' ? 'chip role-chip' : 'dim'} data-testid="endpoint-role">
				{row.role}
			</span>
		),
	},
	{
		id: 'method',
		header: 'Method',
		width: '6.5rem',
		value: (row) => row.method,
		render: (row) => <span className="mono strong">{row.method}</span>,
	},
	{
		id: 'endpoint',
		header: 'Endpoint',
		description: 'Path template: numbers and ids collapsed to :id, no query.',
		value: (row) => row.endpoint,
		render: (row) => (
			<span className="endpoint-cell">
				<span className="mono ellipsis" data-testid="endpoint-path" title={row.endpoint}>
					{row.endpoint}
				</span>
				<EndpointActions endpoint={row} />
			</span>
		),
	},
	amountColumn({
		id: 'count',
		header: 'Requests',
		width: '8.5rem',
		value: (row) => row.count,
		render: (row) => <span className="mono">{formatInt(row.count)}</span>,
	}),
	amountColumn({
		id: 'rate',
		header: 'Req/s',
		description: 'Requests per second over the time the stored windows cover.',
		width: '6rem',
		value: (row) => row.ratePerSec,
		render: (row) => <span className="mono">{formatRate(row.ratePerSec)}</span>,
	}),
	amountColumn({
		id: 'errors',
		header: '5xx',
		description: 'Share of responses with a 5xx status (4xx are counted apart, as the caller’s business).',
		width: '6rem',
		value: (row) => row.errorRate,
		render: (row) => (
			<span className={`mono ${row.errors > 0 ? 'error-text' : 'dim'}`} data-testid="endpoint-errors">
				{formatPercent(row.errorRate * 100)}
			</span>
		),
	}),
	...(['p50', 'p99'] as const).map((q) =>
		amountColumn<CommandEndpoint>({
			id: q,
			header: q,
			description: `${q.slice(1)}th percentile latency, from the merged log2 histogram (within its bucket).`,
			width: '6.5rem',
			value: (row) => row[`${q}Ms`],
			render: (row) => <span className={`mono ${q === 'p99' ? 'strong' : ''}`}>{formatLatency(row[`${q}Ms`])}</span>,
		}),
	),
];
