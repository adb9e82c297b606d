import { useEffect } from 'react';
import { describeError } from '../../lib/api.ts';
import { formatClock, formatDateTime, formatInt } from '../../lib/format.ts';
import { publishHiddenFrames } from '../../lib/hidden-frames.ts';
import type { HostProcessRow } from '../../lib/live-store.ts';
import type { ProfileData } from '../../lib/use-profile-data.ts';

interface ProfileSummaryProps {
	data: ProfileData | null;
	error: unknown;
	/** The filtered process's live row, when the page filters by a running pid. */
	liveProcess: HostProcessRow | undefined;
	following: boolean;
}

/** One line under the query: how much was merged, over which range, and how fresh it is. */
export function ProfileSummary({ data, error, liveProcess, following }: ProfileSummaryProps) {
	const result = data?.result ?? null;
	const [frames, samples, totalSamples] = result ? [result.prunedNodes, result.hiddenSamples, result.totalSamples] : [0, 0, 0];
	useEffect(() => {
		publishHiddenFrames(result ? { frames, samples, totalSamples } : null);
	}, [result, frames, samples, totalSamples]);
	useEffect(() => () => publishHiddenFrames(null), []);
	return (
		<div className="profile-summary" data-testid="profile-summary">
			{data && result ? (
				<>
					<span>
						<strong data-testid="total-samples">{formatInt(result.totalSamples)}</strong> samples
					</span>
					<span>
						<strong>{formatInt(result.windows)}</strong> windows
					</span>
					<span>
						{formatDateTime(data.request.from)} – {formatDateTime(data.request.to)}
					</span>
					{result.prunedNodes > 0 && (
						<span
							title="Frames narrower than a pixel are merged on the hub into one grey remainder per parent; their samples count in every total, and zooming in draws them"
							data-testid="hidden-frames"
						>
							{formatInt(result.prunedNodes)} frames too narrow to draw ({formatInt(result.hiddenSamples)} samples, in grey)
						</span>
					)}
				</>
			) : (
				<span>{error ? 'No data' : 'Loading…'}</span>
			)}
			{liveProcess && (
				<span className="chip" title={liveProcess.cmdline}>
					<span className="mono strong">{liveProcess.comm}</span>
					<span className="mono dim ellipsis" style={{ maxWidth: 360 }}>
						{liveProcess.cmdline}
					</span>
				</span>
			)}
			{data && following && <span className="toolbar-note">updated {formatClock(data.fetchedAt)}</span>}
			{error && data ? <span className="status-item-warn">Last refresh failed: {describeError(error)}</span> : null}
		</div>
	);
}
