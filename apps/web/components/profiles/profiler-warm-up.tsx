import { useMemo } from 'react';
import { describeWarmUp, hostList, profilerWarmUpsOfQueries, type HostWarmUp } from '../../lib/profiler-warm-up.ts';
import { EmptyState } from '../common/empty-state.tsx';
import { useLive } from '../live/live-provider.tsx';

const WHY =
	'Before its first profile window the collector loads the unwind tables of the processes already running (up to 30 s), so their stacks are whole from the first sample.';

/** An empty profile explained: the hosts' profilers have not started yet. */
export function ProfilerWarmUpState({ warmUps }: { warmUps: readonly HostWarmUp[] }) {
	const one = warmUps.length === 1 ? warmUps[0] : undefined;
	return (
		<EmptyState
			testId="profile-empty"
			title={`The CPU profiler on ${hostList(warmUps)} is warming up`}
			detail={`${WHY} Samples appear once it is done; this page updates by itself.`}
		>
			<span className="toolbar-note" data-testid="profile-warm-up">
				<span className="spinner" />
				{one ? describeWarmUp(one) : warmUps.map((w) => `${w.host}: ${describeWarmUp(w)}`).join('; ')}
			</span>
		</EmptyState>
	);
}

/** Beside a profile that has samples: some hosts in it are not in it yet. */
export function ProfilerWarmUpNotice({ warmUps }: { warmUps: readonly HostWarmUp[] }) {
	if (warmUps.length === 0) return null;
	return (
		<div className="query-warnings" role="status" data-testid="profile-warm-up">
			<span className="spinner" aria-hidden />
			<span>
				The CPU profiler on {hostList(warmUps)} is warming up ({warmUps.map((w) => describeWarmUp(w)).join('; ')}): its samples are not in
				this profile yet.
			</span>
		</div>
	);
}

/**
 * The CPU profiler warm-ups of the hosts a page's queries cover, from the hub's status: each of
 * `selections` is one query's hosts ([] for every host). Pass only queries over a range that
 * moves with the clock: a warm-up delays the samples still to come, not a fixed range or a share.
 */
export function useProfilerWarmUps(selections: readonly (readonly string[])[]): HostWarmUp[] {
	const live = useLive();
	const key = JSON.stringify(selections);
	// eslint-disable-next-line react-hooks/exhaustive-deps
	return useMemo(() => profilerWarmUpsOfQueries(live.status?.hosts, selections), [live.status, key]);
}
