import { formatAgo, formatCompact, formatHz, formatPercent } from '../../lib/format.ts';
import type { HostRow } from '../../lib/hosts.ts';
import { describeWarmUp } from '../../lib/profiler-warm-up.ts';
import { formatBytes } from '../../lib/network.ts';
import type { Column } from '../table/column.ts';

function Features({ row }: { row: HostRow }) {
	if (row.running.length === 0 && row.failed.length === 0) return <span className="dim">–</span>;
	return (
		<span className="host-features" data-testid="host-features">
			{row.running.map((name) => {
				const warming = row.warmingUp.find((w) => w.feature === name);
				return warming ? (
					<span key={name} className="badge" title={`${name} is warming up: ${describeWarmUp(warming)}`} data-testid="host-feature-warming">
						{name} warming up
					</span>
				) : (
					<span key={name} className="badge badge-ok">
						{name}
					</span>
				);
			})}
			{row.failed.map((f) => (
				<span key={f.name} className="badge badge-failed" title={`${f.name} could not load: ${f.reason}`} data-testid="host-feature-failed">
					{f.name} off
				</span>
			))}
			{row.failed.map((f) => (
				<span key={`${f.name}-why`} className="host-feature-reason dim">
					{f.name}: {f.reason}
				</span>
			))}
		</span>
	);
}

function Drops({ row }: { row: HostRow }) {
	if (row.drops === 0) return <span className="dim">0</span>;
	return (
		<span className="host-drops" title={row.dropCounters.map(([name, count]) => `${name}: ${count}`).join('\n')} data-testid="host-drops">
			{formatCompact(row.drops)}
		</span>
	);
}

/** The Hosts page's table; `now` for "last seen" ages. */
export function hostColumns(now: number): Column<HostRow>[] {
	return [
		{ id: 'host', header: 'Host', value: (r) => r.host, render: (r) => <span className="mono">{r.host}</span> },
		{
			id: 'state',
			header: 'Collector',
			width: '11rem',
			description: 'Connected to the hub now, or when the hub last heard from it',
			value: (r) => (r.connected ? Number.MAX_SAFE_INTEGER : r.lastSeenMs),
			render: (r) => (
				<span className="status-item" style={{ border: 'none', padding: 0 }}>
					<span className={`status-dot ${r.connected ? 'status-ok' : 'status-down'}`} aria-hidden="true" />
					<span>{r.connected ? 'connected' : `last seen ${formatAgo(now - r.lastSeenMs)} ago`}</span>
				</span>
			),
		},
		{
			id: 'version',
			header: 'Version',
			width: '8.5rem',
			value: (r) => r.version ?? '',
			render: (r) => <span className="mono dim">{r.version ?? '–'}</span>,
		},
		{
			id: 'rate',
			header: 'Sampling',
			width: '6.5rem',
			align: 'right',
			firstSort: 'desc',
			value: (r) => r.frequencyHz,
			render: (r) => formatHz(r.frequencyHz),
		},
		{
			id: 'cpu',
			header: 'CPU',
			width: '6rem',
			align: 'right',
			firstSort: 'desc',
			description: 'Sum of the CPU use of the host’s processes in its live table (100% = one core)',
			value: (r) => r.cpuPercent ?? -1,
			render: (r) => (r.cpuPercent === null ? <span className="dim">–</span> : formatPercent(r.cpuPercent)),
		},
		{
			id: 'drops',
			header: 'Drops',
			width: '6rem',
			align: 'right',
			firstSort: 'desc',
			description: 'Events and samples the collector lost since it started; hover for each counter',
			value: (r) => r.drops,
			render: (r) => <Drops row={r} />,
		},
		{
			id: 'spool',
			header: 'Spool',
			width: '8rem',
			align: 'right',
			firstSort: 'desc',
			description: 'Windows the collector holds until the hub has stored them (after a hub outage, this drains)',
			value: (r) => r.spool?.messages ?? -1,
			render: (r) =>
				r.spool === null ? (
					<span className="dim">–</span>
				) : (
					<span title={`${r.spool.messages} messages, ${formatBytes(r.spool.bytes)}`} data-testid="host-spool">
						{formatCompact(r.spool.messages)} · {formatBytes(r.spool.bytes)}
					</span>
				),
		},
		{
			id: 'features',
			header: 'Features',
			width: '20rem',
			description: 'Signals running, and those that could not load, with why',
			value: (r) => r.failed.length,
			render: (r) => <Features row={r} />,
		},
		{
			id: 'windows',
			header: 'Windows',
			width: '7rem',
			align: 'right',
			firstSort: 'desc',
			description: 'Profile windows of the host in the hub’s store',
			value: (r) => r.windows ?? -1,
			render: (r) => (r.windows === null ? <span className="dim">–</span> : formatCompact(r.windows)),
		},
	];
}
