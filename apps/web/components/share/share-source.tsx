import type { ShareFlameResult } from '@firesight/api';
import { formatDateTime, formatInt } from '../../lib/format.ts';

type ShareSummary = ShareFlameResult['share'];

function processes(share: ShareSummary): string {
	const list = share.source.processes;
	if (list.length === 0) return 'no process labels';
	const shown = list.slice(0, 4).map((p) => (p.pid > 0 ? `${p.comm || '?'} (${p.pid})` : p.comm || '?'));
	return list.length > 4 ? `${shown.join(', ')} and ${list.length - 4} more` : shown.join(', ');
}

/** What a share was taken from: host, processes, range, who and when. */
export function ShareSource({ share }: { share: ShareSummary }) {
	const { source } = share;
	const rows: [string, string][] = [];
	if (source.kind === 'import') {
		rows.push(['Imported from', `${source.file?.name ?? 'a file'} (${source.file?.format ?? 'profile'})`]);
	} else {
		rows.push(['Hosts', source.hosts.length > 0 ? source.hosts.join(', ') : 'every host']);
		rows.push(['Time range', `${formatDateTime(source.fromMs)} – ${formatDateTime(source.toMs)}`]);
	}
	rows.push(['Processes', processes(share)]);
	rows.push(['Samples', `${formatInt(share.totalSamples)} in ${formatInt(share.stacks)} stacks`]);
	rows.push(['Shared', `${formatDateTime(share.createdMs)}${share.creator ? ` by ${share.creator}` : ''}`]);
	return (
		<dl className="share-source" data-testid="share-source" style={{ display: 'flex', flexWrap: 'wrap', gap: '4px 20px', margin: 0 }}>
			{rows.map(([label, value]) => (
				<div key={label}>
					<dt className="field-label">{label}</dt>
					<dd className="mono" style={{ margin: 0 }}>
						{value}
					</dd>
				</div>
			))}
		</dl>
	);
}
