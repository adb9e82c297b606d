'use client';

import { useEffect, useState } from 'react';
import { parsePid, type ProfileQueryState } from '../../lib/profile-query.ts';
import { useDebounced } from '../../lib/use-debounced.ts';
import { TextField } from '../common/text-field.tsx';
import { TimeRangePicker } from './time-range-picker.tsx';

interface QueryBarProps {
	query: ProfileQueryState;
	navigate(patch: Partial<ProfileQueryState>): void;
	loading: boolean;
	onRefresh(): void;
	/** The pprof export of what the page shows. */
	pprofHref: string;
}

/** What to merge: time range, process filters and live mode; plus refresh and the pprof export. */
export function QueryBar({ query, navigate, loading, onRefresh, pprofHref }: QueryBarProps) {
	// Text inputs apply after a pause in typing, so each keystroke does not refetch.
	const [pidDraft, setPidDraft] = useState(query.pid === null ? '' : String(query.pid));
	const [commDraft, setCommDraft] = useState(query.comm);
	const [endpointDraft, setEndpointDraft] = useState(query.endpoint ?? '');
	const pidValid = pidDraft.trim() === '' || parsePid(pidDraft) !== null;
	const debouncedPid = useDebounced(pidDraft, 500);
	const debouncedComm = useDebounced(commDraft, 500);
	const debouncedEndpoint = useDebounced(endpointDraft, 500);
	useEffect(() => setPidDraft(query.pid === null ? '' : String(query.pid)), [query.pid]);
	useEffect(() => setCommDraft(query.comm), [query.comm]);
	useEffect(() => setEndpointDraft(query.endpoint ?? ''), [query.endpoint]);
	useEffect(() => {
		const pid = debouncedPid.trim() === '' ? null : parsePid(debouncedPid);
		if (debouncedPid.trim() !== '' && pid === null) return;
		const endpoint = debouncedEndpoint.trim();
		if (pid !== query.pid || debouncedComm.trim() !== query.comm || endpoint !== (query.endpoint ?? '')) {
			navigate({ pid, comm: debouncedComm.trim(), endpoint: endpoint || undefined });
		}
		// Only typing should trigger this, not URL changes made elsewhere.
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [debouncedPid, debouncedComm, debouncedEndpoint]);

	// The URL updates asynchronously; the checkbox answers the click at once.
	const [liveChecked, setLiveChecked] = useState(query.live);
	useEffect(() => setLiveChecked(query.live), [query.live]);

	return (
		<div className="query-bar">
			<TimeRangePicker range={query.range} onChange={(range) => navigate({ range, live: range.kind === 'relative' && query.live })} />
			<TextField
				label="PID"
				inputClass="pid-input"
				inputMode="numeric"
				invalid={!pidValid}
				inputTitle={pidValid ? undefined : 'Not a process id: a whole number from 1'}
				value={pidDraft}
				onChange={setPidDraft}
				onCommit={() => navigate({ pid: parsePid(pidDraft) })}
				testId="filter-pid"
			/>
			<TextField
				label="Command"
				inputClass="comm-input"
				value={commDraft}
				onChange={setCommDraft}
				onCommit={() => navigate({ comm: commDraft.trim() })}
				testId="filter-comm"
			/>
			<TextField
				label="Endpoint"
				title="Only the samples attributed to this endpoint by the TLS capture: METHOD and path template"
				inputClass="endpoint-input"
				placeholder="any, or GET /api/users/:id"
				value={endpointDraft}
				onChange={setEndpointDraft}
				onCommit={() => navigate({ endpoint: endpointDraft.trim() || undefined })}
				testId="filter-endpoint"
			/>
			<label
				className="toggle"
				title={query.range.kind === 'absolute' ? 'Live mode follows relative ranges only' : 'Refetch as new profile windows arrive'}
			>
				<input
					type="checkbox"
					checked={liveChecked}
					disabled={query.range.kind === 'absolute'}
					onChange={(event) => {
						setLiveChecked(event.target.checked);
						navigate({ live: event.target.checked });
					}}
					data-testid="live-toggle"
				/>
				Live
				{liveChecked && <span className="live-dot" aria-label="following" />}
			</label>
			<div className="spacer" />
			<button type="button" className="button" onClick={onRefresh} title="Fetch the range again" data-testid="refresh">
				{loading ? <span className="spinner" /> : '↻'} Refresh
			</button>
			<a
				className="button"
				href={pprofHref}
				download
				data-testid="download-pprof"
				title="The merged profile in pprof format, for go tool pprof or any pprof viewer"
			>
				Download pprof
			</a>
		</div>
	);
}
