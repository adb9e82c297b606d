import Link from 'next/link';
import { formatInt, formatRate } from '../../lib/format.ts';
import { endpoint, formatBytes, formatDuration, type HostConnectionRow } from '../../lib/network.ts';
import { profileHref } from '../../lib/profile-query.ts';
import { amountColumn, type Column } from '../table/column.ts';
import { hostColumn } from '../table/host-column.tsx';

const STATE_TONE: Record<string, string> = {
	ESTABLISHED: 'state-ok',
	SYN_SENT: 'state-warn',
	SYN_RECV: 'state-warn',
	CLOSE: 'state-closed',
	TIME_WAIT: 'state-closed',
};

/** The live connection table's columns. */
export const CONNECTION_COLUMNS: readonly Column<HostConnectionRow>[] = [
	{
		id: 'comm',
		header: 'Process',
		description: 'The owning process: the one that called connect() or accept(). "?" when the socket predates tracing.',
		width: '10rem',
		value: (row) => row.comm,
		render: (row) => <span className="mono strong">{row.comm || '?'}</span>,
	},
	{
		id: 'pid',
		header: 'PID',
		width: '6rem',
		align: 'right',
		value: (row) => row.pid,
		render: (row) =>
			row.pid > 0 ? (
				<Link href={profileHref({ pid: row.pid })} className="mono" title="Open its CPU profile">
					{row.pid}
				</Link>
			) : (
				<span className="mono dim">–</span>
			),
	},
	{
		id: 'family',
		header: 'IP',
		width: '3.5rem',
		value: (row) => row.family,
		render: (row) => <span className="mono dim">v{row.family}</span>,
	},
	{
		id: 'local',
		header: 'Local',
		value: (row) => `${row.saddr}:${String(row.sport).padStart(5, '0')}`,
		render: (row) => <span className="mono ellipsis">{endpoint(row.family, row.saddr, row.sport)}</span>,
	},
	{
		id: 'remote',
		header: 'Remote',
		value: (row) => `${row.daddr}:${String(row.dport).padStart(5, '0')}`,
		render: (row) => (
			<span className="mono ellipsis" data-testid="connection-remote">
				{endpoint(row.family, row.daddr, row.dport)}
			</span>
		),
	},
	{
		id: 'state',
		header: 'State',
		width: '8rem',
		value: (row) => row.state,
		render: (row) => <span className={`badge ${STATE_TONE[row.state] ?? ''}`}>{row.state}</span>,
	},
	amountColumn({
		id: 'age',
		header: 'Age',
		description: 'Open for (or, once closed, was open for). "≥" when the connection predates tracing.',
		width: '8.5rem',
		value: (row) => row.ageMs,
		render: (row) => (
			<span className="mono dim">
				{row.openedBeforeTracing ? '≥ ' : ''}
				{formatDuration(row.ageMs)}
			</span>
		),
	}),
	amountColumn({
		id: 'bytes',
		header: 'Sent / received',
		description: 'Bytes acknowledged by the peer / bytes received.',
		width: '12rem',
		value: (row) => row.bytesSent + row.bytesReceived,
		render: (row) => (
			<span className="mono dim">
				{formatBytes(row.bytesSent)} / {formatBytes(row.bytesReceived)}
			</span>
		),
	}),
	amountColumn({
		id: 'retransmits',
		header: 'Retransmits',
		description: 'Segments retransmitted (SYN-ACKs included), as the kernel counts them in TcpRetransSegs.',
		width: '9.5rem',
		value: (row) => row.retransmits,
		render: (row) => (
			<span className={`mono ${row.retransmits > 0 ? 'retrans-hot' : 'dim'}`} data-testid="connection-retransmits">
				{formatInt(row.retransmits)}
			</span>
		),
	}),
	amountColumn({
		id: 'rate',
		header: 'Retrans/s',
		description: 'Retransmitted segments over the last second.',
		width: '8.5rem',
		value: (row) => row.retransmitsPerSecond,
		render: (row) => (
			<span className={`mono ${row.retransmitsPerSecond > 0 ? 'retrans-hot' : 'dim'}`}>{formatRate(row.retransmitsPerSecond)}</span>
		),
	}),
];

export const CONNECTION_HOST_COLUMN = hostColumn<HostConnectionRow>('8rem');
