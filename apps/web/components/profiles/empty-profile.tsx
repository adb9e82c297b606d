import Link from 'next/link';
import type { EmptyProfileReason } from '../../lib/empty-profile-reason.ts';
import { formatDateTime } from '../../lib/format.ts';
import { findPreset, type ProfileQueryState } from '../../lib/profile-query.ts';
import { EmptyState } from '../common/empty-state.tsx';
import { ProfilerWarmUpState } from './profiler-warm-up.tsx';

interface EmptyProfileProps {
	reason: EmptyProfileReason;
	/** The range that was merged. */
	range: { from: number; to: number };
	navigate(patch: Partial<ProfileQueryState>): void;
}

/** Says why the merged profile is empty, and offers the next step. */
export function EmptyProfile({ reason, range, navigate }: EmptyProfileProps) {
	const rangeText = `between ${formatDateTime(range.from)} and ${formatDateTime(range.to)}`;
	switch (reason.kind) {
		case 'process-idle':
			return (
				<EmptyState
					testId="profile-empty"
					title={`Waiting for samples of ${reason.comm} (PID ${reason.pid})`}
					detail={
						reason.fixedRange
							? `The process is running but no profile window with its samples was stored ${rangeText}. It may have been idle; pick a later range.`
							: `The process is running but no profile window with its samples has been stored ${rangeText} yet. It may be idle; the collector sends windows every few seconds and this page updates by itself.`
					}
				>
					{!reason.fixedRange && (
						<span className="toolbar-note">
							<span className="spinner" />
							following new windows
						</span>
					)}
				</EmptyState>
			);
		case 'process-exited': {
			const { lastMs } = reason;
			return (
				<EmptyState
					testId="profile-empty"
					title={`${reason.comm} (PID ${reason.pid}) has no samples in this range`}
					detail={`It was last seen on ${reason.host} at ${formatDateTime(lastMs)} and is no longer running.`}
				>
					<button
						type="button"
						className="button"
						onClick={() => navigate({ range: { kind: 'absolute', from: lastMs - 5 * 60_000, to: lastMs + 60_000 }, live: false })}
					>
						Show the 5 minutes before it was last seen
					</button>
				</EmptyState>
			);
		}
		case 'pid-not-found': {
			const wider = reason.widerPreset === null ? undefined : findPreset(reason.widerPreset);
			return (
				<EmptyState
					testId="profile-empty"
					title={reason.seen === false ? `Unknown PID ${reason.pid}` : `No samples of PID ${reason.pid}`}
					detail={`${reason.seen === false ? `No process with PID ${reason.pid} has been seen on any host.` : `PID ${reason.pid} is not in the live process table and has no samples ${rangeText}.`} It may have exited before it was sampled, or the PID is mistyped.`}
				>
					<div className="custom-range">
						<Link className="button" href="/">
							Pick a process
						</Link>
						{wider && (
							<button type="button" className="button" onClick={() => navigate({ range: { kind: 'relative', preset: wider.id } })}>
								Look at the {wider.label.toLowerCase()}
							</button>
						)}
					</div>
				</EmptyState>
			);
		}
		case 'warming-up':
			return <ProfilerWarmUpState warmUps={reason.warmUps} />;
		case 'no-collector':
			return (
				<EmptyState
					testId="profile-empty"
					title="No profiles yet"
					detail="No collector is connected to the hub. Is the collector running? Start one with `firesight up` (or `npm start`) on the host you want to profile."
				/>
			);
		case 'filters-match-nothing':
			return (
				<EmptyState
					testId="profile-empty"
					title="No samples match these filters"
					detail={`Nothing ${reason.comm ? `named “${reason.comm}” ` : ''}was sampled ${rangeText}. Widen the time range or clear the filters.`}
				>
					<div className="custom-range">
						<button type="button" className="button" onClick={() => navigate({ pid: null, comm: '', hosts: [] })}>
							Clear filters
						</button>
					</div>
				</EmptyState>
			);
		case 'no-samples-in-range':
			return (
				<EmptyState
					testId="profile-empty"
					title="No samples in this range"
					detail={
						reason.fixedRange
							? `Nothing was sampled ${rangeText}. Pick a range when the collector was running.`
							: `Nothing was sampled ${rangeText} yet. Is the collector running? Profiles arrive every few seconds; this page updates by itself.`
					}
				/>
			);
	}
}
