'use client';

import { useEffect, useState } from 'react';
import type { DiffSideState } from '../../lib/diff-query.ts';
import { defaultSide } from '../../lib/diff-query.ts';
import { parsePid } from '../../lib/profile-query.ts';
import { isShareId } from '../../lib/share-links.ts';
import { TextField } from '../common/text-field.tsx';
import { TimeRangePicker } from '../profiles/time-range-picker.tsx';

/** A share id, or the id in a pasted share link (`.../s/<id>?...`). */
function shareIdOf(text: string): string | null {
	const trimmed = text.trim();
	if (isShareId(trimmed)) return trimmed;
	const match = /\/s\/([A-Za-z0-9_-]{22})(?:[/?#]|$)/.exec(trimmed);
	return match ? match[1]! : null;
}

interface DiffSideEditorProps {
	label: string;
	side: DiffSideState;
	onChange(side: DiffSideState): void;
	testId: string;
}

/** One side of a diff: the Profiles page's query (range, pid, command, host) or a share. */
export function DiffSideEditor({ label, side, onChange, testId }: DiffSideEditorProps) {
	const query = side.kind === 'query' ? side : defaultSide.kind === 'query' ? defaultSide : null;
	const [pid, setPid] = useState(query?.pid === null || !query ? '' : String(query.pid));
	const [comm, setComm] = useState(query?.comm ?? '');
	const [host, setHost] = useState(query?.host ?? '');
	const [endpoint, setEndpoint] = useState(query?.endpoint ?? '');
	const [share, setShare] = useState(side.kind === 'share' ? side.id : '');
	useEffect(() => {
		if (side.kind === 'share') setShare(side.id);
		else {
			setPid(side.pid === null ? '' : String(side.pid));
			setComm(side.comm);
			setHost(side.host);
			setEndpoint(side.endpoint ?? '');
		}
	}, [side]);
	const pidValid = pid.trim() === '' || parsePid(pid) !== null;
	const shareValid = share.trim() === '' || shareIdOf(share) !== null;
	const applyQuery = () => {
		if (!query || !pidValid) return;
		const chosen = endpoint.trim();
		onChange({
			kind: 'query',
			range: query.range,
			pid: parsePid(pid),
			comm: comm.trim(),
			host: host.trim(),
			...(chosen ? { endpoint: chosen } : {}),
		});
	};
	const applyShare = () => {
		const id = shareIdOf(share);
		if (id) onChange({ kind: 'share', id });
	};

	return (
		<div className="query-bar diff-side" data-testid={testId} data-kind={side.kind}>
			<span className="panel-title" style={{ minWidth: 90 }}>
				{label}
			</span>
			<div className="segmented" role="group" aria-label={`${label} source`}>
				<button
					type="button"
					aria-pressed={side.kind === 'query'}
					onClick={() => side.kind !== 'query' && onChange(query ?? defaultSide)}
					data-testid={`${testId}-query`}
				>
					Query
				</button>
				<button
					type="button"
					aria-pressed={side.kind === 'share'}
					onClick={() => side.kind !== 'share' && applyShare()}
					data-testid={`${testId}-share`}
					title="Paste a share id or link first"
				>
					Share
				</button>
			</div>
			{side.kind === 'query' ? (
				<>
					<TimeRangePicker range={side.range} onChange={(range) => onChange({ ...side, range })} />
					<TextField
						label="PID"
						inputClass="pid-input"
						inputMode="numeric"
						invalid={!pidValid}
						value={pid}
						onChange={setPid}
						onCommit={applyQuery}
						commitOnBlur
						testId={`${testId}-pid`}
					/>
					<TextField
						label="Command"
						inputClass="comm-input"
						value={comm}
						onChange={setComm}
						onCommit={applyQuery}
						commitOnBlur
						testId={`${testId}-comm`}
					/>
					<TextField
						label="Host"
						inputClass="comm-input"
						value={host}
						onChange={setHost}
						onCommit={applyQuery}
						commitOnBlur
						testId={`${testId}-host`}
					/>
					<TextField
						label="Endpoint"
						title="Only the samples attributed to this endpoint: METHOD and path template"
						inputClass="endpoint-input"
						value={endpoint}
						onChange={setEndpoint}
						onCommit={applyQuery}
						commitOnBlur
						testId={`${testId}-endpoint`}
					/>
				</>
			) : null}
			<TextField
				label="Share"
				inputClass="mono"
				placeholder="share id or link"
				size={26}
				invalid={!shareValid}
				value={share}
				onChange={setShare}
				onCommit={applyShare}
				commitOnBlur={side.kind === 'share'}
				testId={`${testId}-share-id`}
			/>
		</div>
	);
}
