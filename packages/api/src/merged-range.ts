import { groupByProcess, type Profile } from '@firesight/profile';
import type { ProfileQuery, ProfileStore } from '@firesight/store';
import type { Derive } from './flame-result.ts';
import { queryProfiles } from './host-selection.ts';
import type { HostSelection } from './inputs.ts';
import { rangeCacheFor, windowsStamp } from './range-cache.ts';

export type SelectionQuery = Omit<ProfileQuery, 'host'> & { host?: HostSelection | undefined };

/** One merged range as the flame procedures read it: the profile, its windows, and a memo. */
export interface MergedView {
	profile: Profile;
	windows: number;
	derive: Derive;
	cached: boolean;
}

/**
 * The merged profile of a query, from the store's range cache when the hosts' stored windows
 * have not changed since it was merged. With `byProcess`, the `comm (pid)` level is added once
 * per merge too.
 */
export async function mergedView(
	profiles: Pick<ProfileStore, 'query' | 'listHosts'>,
	query: SelectionQuery,
	byProcess: boolean,
): Promise<MergedView> {
	const stamp = await windowsStamp(profiles, query.host);
	const range = await rangeCacheFor(profiles).get(JSON.stringify(query), stamp, () => queryProfiles(profiles, query));
	const prefix = byProcess ? 'process:' : '';
	const profile = byProcess ? range.derive('process', () => groupByProcess(range.merged.profile)) : range.merged.profile;
	return {
		profile,
		windows: range.merged.windows,
		derive: (key, make) => range.derive(prefix + key, make),
		cached: range.hit,
	};
}
