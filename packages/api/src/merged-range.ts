import { groupByEndpoint, groupByProcess, type Profile } from '@firesight/profile';
import type { ProfileQuery, ProfileStore } from '@firesight/store';
import type { Derive } from './flame-result.ts';
import { queryProfiles } from './host-selection.ts';
import type { HostSelection } from './inputs.ts';
import { hostWindows, rangeCacheFor, stampOf, type CachedRange } from './range-cache.ts';
import { extendRange, rangeFamily } from './range-extension.ts';

export type SelectionQuery = Omit<ProfileQuery, 'host'> & { host?: HostSelection | undefined };

/** One merged range as the flame procedures read it: the profile, its windows, and a memo. */
export interface MergedView {
	profile: Profile;
	windows: number;
	derive: Derive;
	cached: boolean;
}

/**
 * The merged profile of a query from the store's range cache: the same answer when the hosts'
 * stored windows have not changed since it was merged; else, when an earlier range of the same
 * query can be moved forward to this one (a live page following the clock, new windows under a
 * re-zoom), that merge with the windows that entered and left; else a fresh merge.
 */
export async function mergedRange(profiles: Pick<ProfileStore, 'query' | 'listHosts'>, query: SelectionQuery): Promise<CachedRange> {
	const cache = rangeCacheFor(profiles);
	const hosts = await hostWindows(profiles, query.host);
	const stamp = stampOf(hosts);
	const family = rangeFamily(query);
	return cache.get(JSON.stringify(query), stamp, async () => {
		const base = cache.base(family);
		const next = base ? await extendRange(profiles, base, query, hosts) : null;
		if (next) {
			cache.stats.extended += 1;
			cache.setBase(family, next);
			return next.merged;
		}
		const merged = await queryProfiles(profiles, query);
		// Only a merge no window changed under can be extended later.
		if (stampOf(await hostWindows(profiles, query.host)) === stamp) {
			cache.setBase(family, { fromMs: query.fromMs, toMs: query.toMs, hosts, merged, sum: undefined });
		}
		return merged;
	});
}

/**
 * The merged profile of a query (see `mergedRange`). With `byProcess`, the `comm (pid)` level is added once
 * per merge too, and with `byEndpoint` the endpoint level.
 */
export async function mergedView(
	profiles: Pick<ProfileStore, 'query' | 'listHosts'>,
	query: SelectionQuery,
	byProcess: boolean,
	byEndpoint = false,
): Promise<MergedView> {
	const range = await mergedRange(profiles, query);
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
