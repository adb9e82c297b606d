import Link from 'next/link';
import { formatPercent, formatRate } from '../../lib/format.ts';
import { formatLatency } from '../../lib/requests.ts';
import type { HostProcessRow } from '../../lib/live-store.ts';
import { amountColumn, type Column } from '../table/column.ts';
import { hostColumn } from '../table/host-column.tsx';
import { profileHref } from '../../lib/profile-query.ts';

function CpuBar({ percent }: { percent: number }) {
	// One core is 100%; the bar saturates there and the number tells the rest.
	const width = Math.min(100, Math.max(0, percent));
	return (
		<span className="cpu-cell">
			<span className="cpu-bar" aria-hidden="true">
				<span className="cpu-bar-fill" style={{ width: `${width}%` }} />
			</span>
			<span className="cpu-value">{formatPercent(percent)}</span>
		</span>
	);
}

/** The process table's columns. Later features (requests/s, p99, retransmits) append entries here. */
export const PROCESS_COLUMNS: readonly Column<HostProcessRow>[] = [
	{
		id: 'pid',
		header: 'PID',
		width: '6.5rem',
		align: 'right',
		value: (row) => row.pid,
		render: (row) => (
			<Link href={profileHref({ pid: row.pid })} className="mono" onClick={(event) => event.stopPropagation()}>
				{row.pid}
			</Link>
		),
	},
	{
		id: 'comm',
		header: 'Command',
		description: 'The kernel task name (comm), at most 15 characters.',
		width: '11rem',
		value: (row) => row.comm,
		render: (row) => <span className="mono strong">{row.comm}</span>,
	},
	{
		id: 'cmdline',
		header: 'Command line',
		value: (row) => row.cmdline,
		render: (row) => (
			<span className="mono dim ellipsis" title={row.cmdline}>
				{row.cmdline || `[${row.comm}]`}
				{row.kernelThread && <span className="chip kthread-chip">kernel thread</span>}
			</span>
		),
	},
	amountColumn({
		id: 'cpu',
		header: 'CPU',
		description: 'CPU time over the last second; 100% is one full core.',
		width: '10rem',
		value: (row) => row.cpuPercent,
		render: (row) => <CpuBar percent={row.cpuPercent} />,
	}),
	amountColumn({
		id: 'samples',
		header: 'Samples/s',
		description: 'Stack samples taken from this process over the last second.',
		width: '8.5rem',
		value: (row) => row.samplesPerSec,
		render: (row) => <span className="mono">{formatRate(row.samplesPerSec)}</span>,
	}),
	amountColumn({
		id: 'retransmits',
		header: 'Retransmits',
		description: 'TCP segments this process retransmitted since the collector started (see the Network page).',
		width: '9rem',
		value: (row) => row.retransmits ?? -1,
		render: (row) =>
			row.retransmits === undefined ? (
				<span className="mono dim" title="The collector does not trace TCP">
					–
				</span>
			) : (
				<span className={`mono ${row.retransmits > 0 ? 'strong' : 'dim'}`}>{row.retransmits}</span>
			),
	}),
	amountColumn({
		id: 'requests',
		header: 'Req/s',
		description: 'HTTPS requests this process made or served over the last second (see the Requests page).',
		width: '6rem',
		value: (row) => row.requestsPerSec ?? -1,
		render: (row) =>
			row.requestsPerSec === undefined ? (
				<span className="mono dim" title="The collector does not capture HTTPS">
					–
				</span>
			) : (
				<span className={`mono ${row.requestsPerSec > 0 ? 'strong' : 'dim'}`}>{formatRate(row.requestsPerSec)}</span>
			),
	}),
	amountColumn({
		id: 'p99',
		header: 'p99',
		description: "99th percentile latency of this process's HTTPS requests over the last 10 seconds.",
		width: '6.5rem',
		value: (row) => row.p99Ms ?? -1,
		render: (row) => (
			<span className={`mono ${row.p99Ms === undefined ? 'dim' : ''}`}>{row.p99Ms === undefined ? '–' : formatLatency(row.p99Ms)}</span>
		),
	}),
];

export const HOST_COLUMN = hostColumn<HostProcessRow>('9rem');
