import type { ProfileRequest } from './api.ts';
import { resolveRange, type ProfileQueryState } from './profile-query.ts';

/**
 * What the Profiles page fetches its flame graph again on a change of: the range, the filters,
 * the levels, and `tick` (new windows while following a live range; 0 on the first fetch).
 */
export function flameKey(query: ProfileQueryState, tick: number): string {
	const range = query.range.kind === 'absolute' ? `${query.range.from}-${query.range.to}` : query.range.preset;
	return `${range}|${query.pid}|${query.comm}|${query.endpoint ?? ''}|${query.hosts.join(',')}|${query.groupByProcess ? 'p' : ''}${query.groupByEndpoint ? 'e' : ''}|${tick}`;
}

/** The flame query of the page's state, its relative range ending at `now`. */
export function flameRequest(query: ProfileQueryState, now: number): ProfileRequest {
	const { from, to } = resolveRange(query.range, now);
	// One pixel of a wide screen: narrower frames cannot be seen, the hub drops them.
	const minFraction = 1 / Math.max(1200, typeof window === 'undefined' ? 1200 : window.innerWidth);
	return {
		from,
		to,
		pid: query.pid,
		comm: query.comm,
		endpoint: query.endpoint,
		hosts: query.hosts,
		minFraction,
		groupByProcess: query.groupByProcess === true,
		groupByEndpoint: query.groupByEndpoint === true,
	};
}
