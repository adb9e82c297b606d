import { groupByEndpoint, groupByProcess, type Profile } from '@firesight/profile';
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
 * per merge too, and with `byEndpoint` the endpoint level.
 */
export async function mergedView(
	profiles: Pick<ProfileStore, 'query' | 'listHosts'>,
	query: SelectionQuery,
	byProcess: boolean,
	byEndpoint = false,
): Promise<MergedView> {
	const stamp = await windowsStamp(profiles, query.host);
	const range = await rangeCacheFor(profiles).get(JSON.stringify(query), stamp, () => queryProfiles(profiles, query));
	// The endpoint level goes in first, so with both the levels read command, process, endpoint.
	const prefix = `${byProcess ? 'process:' : ''}${byEndpoint ? 'endpoint:' : ''}`;
	const byEndpointProfile = byEndpoint ? range.derive('endpoint', () => groupByEndpoint(range.merged.profile)) : range.merged.profile;
	const profile = byProcess ? range.derive(`${prefix}grouped`, () => groupByProcess(byEndpointProfile)) : byEndpointProfile;
	return {
		profile,
		windows: range.merged.windows,
		derive: (key, make) => range.derive(prefix + key, make),
		cached: range.hit,
	};
}
