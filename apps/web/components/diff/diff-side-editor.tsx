'use client';

import { useEffect, useState } from 'react';
import type { DiffSideState } from '../../lib/diff-query.ts';
import { defaultSide } from '../../lib/diff-query.ts';
import { parsePid } from '../../lib/profile-query.ts';
import { isShareId } from '../../lib/share-links.ts';
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
	const onEnter = (apply: () => void) => (event: React.KeyboardEvent) => event.key === 'Enter' && apply();

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
					<label className="field">
						<span className="field-label">PID</span>
						<input
							className={`input pid-input ${pidValid ? '' : 'invalid'}`}
							aria-invalid={!pidValid}
							inputMode="numeric"
							placeholder="any"
							value={pid}
							onChange={(event) => setPid(event.target.value)}
							onBlur={applyQuery}
							onKeyDown={onEnter(applyQuery)}
							data-testid={`${testId}-pid`}
						/>
					</label>
					<label className="field">
						<span className="field-label">Command</span>
						<input
							className="input comm-input"
							placeholder="any"
							value={comm}
							onChange={(event) => setComm(event.target.value)}
							onBlur={applyQuery}
							onKeyDown={onEnter(applyQuery)}
							data-testid={`${testId}-comm`}
						/>
					</label>
					<label className="field">
						<span className="field-label">Host</span>
						<input
							className="input comm-input"
							placeholder="any"
							value={host}
							onChange={(event) => setHost(event.target.value)}
							onBlur={applyQuery}
							onKeyDown={onEnter(applyQuery)}
							data-testid={`${testId}-host`}
						/>
					</label>
					<label className="field" title="Only the samples attributed to this endpoint: METHOD and path template">
						<span className="field-label">Endpoint</span>
						<input
							className="input endpoint-input"
							placeholder="any"
							value={endpoint}
							onChange={(event) => setEndpoint(event.target.value)}
							onBlur={applyQuery}
							onKeyDown={onEnter(applyQuery)}
							data-testid={`${testId}-endpoint`}
						/>
					</label>
				</>
			) : null}
			<label className="field">
				<span className="field-label">Share</span>
				<input
					className={`input mono ${shareValid ? '' : 'invalid'}`}
					aria-invalid={!shareValid}
					placeholder="share id or link"
					size={26}
					value={share}
					onChange={(event) => setShare(event.target.value)}
					onBlur={() => side.kind === 'share' && applyShare()}
					onKeyDown={onEnter(applyShare)}
					data-testid={`${testId}-share-id`}
				/>
			</label>
		</div>
	);
}
