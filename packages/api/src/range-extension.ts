import type { HostSummary, MergedProfile, ProfileStore } from '@firesight/store';
import type { SelectionQuery } from './merged-range.ts';
import { ProfileSum, ProfileSumMismatch } from './profile-sum.ts';
import { hostWindows, stampOf } from './range-cache.ts';

/** A merged range that a later range of the same query (moved forward, or more windows) is computed from. */
export interface RangeBase {
	readonly fromMs: number;
	readonly toMs: number;
	/** The selected hosts' stored windows when it was merged, unchanged during the merge. */
	readonly hosts: readonly HostSummary[];
	readonly merged: MergedProfile;
	/** Built on the first extension and handed on to the next base: one extension owns it at a time. */
	sum: ProfileSum | undefined;
}

/** Past this many hosts, a range is merged afresh: an extension asks the store per host. */
export const MAX_EXTENDED_HOSTS = 32;

/** The query without its range: ranges of one family can be computed from each other. */
export function rangeFamily(query: SelectionQuery): string {
	return JSON.stringify({ ...query, fromMs: undefined, toMs: undefined });
}

/**
 * The merge of `query`'s range [A', B') computed from a base [A, B) with A ≤ A' < B ≤ B', reading
 * only windows near the edges, or null when that cannot be shown exact (then merge afresh).
 *
 * The store merges every window overlapping a range, so with `S(t)` the windows straddling t
 * (the store's answer for the empty range [t, t)):
 * - the windows that left are those ending in (A, A']: the range [A, A') less S(A');
 * - the windows that entered start in [m, B'), with m = min(B, L): the range [m, B') less S(m),
 *   where L is where the host's newest window ended at the base's merge (no window started at
 *   or after L then, so every one that does now is new).
 * That holds when every window stored since the base starts at or after L, which the per-host
 * window counts show: the count grew by exactly the windows starting at or after L. A pruned
 * window moves the host's first start, and a new or vanished host changes the host list; either
 * is merged afresh.
 */
export async function extendRange(
	profiles: Pick<ProfileStore, 'query' | 'listHosts'>,
	base: RangeBase,
	query: SelectionQuery,
	hosts: readonly HostSummary[],
): Promise<RangeBase | null> {
	const { fromMs: a, toMs: b } = base;
	const { fromMs: a2, toMs: b2 } = query;
	if (a2 < a || b2 < b || a2 >= b) return null;
	if (hosts.length !== base.hosts.length || hosts.length > MAX_EXTENDED_HOSTS) return null;
	const plans: { host: string; then: HostSummary; now: HostSummary; m: number }[] = [];
	for (const [i, now] of hosts.entries()) {
		const then = base.hosts[i]!;
		if (then.host !== now.host || then.firstMs !== now.firstMs) return null;
		const m = Math.min(then.lastMs, b);
		if (m < a2) return null;
		plans.push({ host: now.host, then, now, m });
	}
	// Taken now, so a concurrent extension of the same base builds its own from `base.merged`.
	const owned = base.sum;
	base.sum = undefined;

	const { fromMs: _from, toMs: _to, host: _host, ...filters } = query;
	const read = (host: string, fromMs: number, toMs: number) => profiles.query({ ...filters, host, fromMs, toMs });
	const added: MergedProfile[] = [];
	const removed: MergedProfile[] = [];
	const counted = await Promise.all(
		plans.map(async ({ host, then, now, m }) => {
			if (a2 > a) {
				const [left, straddling] = await Promise.all([read(host, a, a2), read(host, a2, a2)]);
				removed.push(left);
				added.push(straddling);
			}
			let entered = 0;
			if (b2 > m) {
				const [came, straddling] = await Promise.all([read(host, m, b2), read(host, m, m)]);
				added.push(came);
				removed.push(straddling);
				entered = came.windows - straddling.windows;
			}
			// Windows starting at or after L: those that entered, unless some start before B or at or after B'.
			let fresh = entered;
			if (then.lastMs > b || now.lastMs > b2) {
				if (now.lastMs <= then.lastMs) fresh = 0;
				else {
					const [all, straddling] = await Promise.all([read(host, then.lastMs, now.lastMs), read(host, then.lastMs, then.lastMs)]);
					fresh = all.windows - straddling.windows;
				}
			}
			return now.windows - then.windows === fresh;
		}),
	);
	// Windows stored under the base, or the store's windows moving during these reads: merge afresh.
	if (counted.includes(false) || stampOf(await hostWindows(profiles, query.host)) !== stampOf(hosts)) {
		base.sum ??= owned;
		return null;
	}

	const sum = owned ?? ProfileSum.of(base.merged);
	try {
		// Additions first, so no sum dips below zero on the way.
		for (const part of added) sum.add(part, 1);
		for (const part of removed) sum.add(part, -1);
	} catch (err) {
		if (err instanceof ProfileSumMismatch) return null;
		throw err;
	}
	return { fromMs: a2, toMs: b2, hosts, merged: sum.merged({ fromMs: a2, toMs: b2 }), sum };
}
