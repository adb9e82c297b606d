import type { Profile } from '@firesight/profile';
import type { ShareStore, ShareSummary } from '@firesight/store';
import { rangeCacheFor } from './range-cache.ts';

export interface CachedShare {
	summary: ShareSummary;
	profile: Profile;
	/** Whether the decoded profile came from memory. */
	hit: boolean;
	/** Computes a value of this share once (a drawn graph, a diff against another share). */
	derive<T>(key: string, make: () => T): T;
}

/**
 * A share, decoded once. Shares never change, so what is computed from one serves every later
 * reader of its link from memory: they sit in a RangeCache of their own (one per share store,
 * bounded like merged ranges) under their id. The summary is read first, without decoding, so a
 * deleted share is gone at once and an unknown id costs no more than a row look-up.
 */
export async function loadShare(shares: ShareStore, id: string): Promise<CachedShare | null> {
	const summary = await shares.summary(id);
	if (summary === null) return null;
	const entry = await rangeCacheFor(shares).get(id, String(summary.createdMs), async () => {
		const share = await shares.get(id);
		if (share === null) throw new Error(`share '${id}' was deleted while it was read`);
		return { profile: share.profile, windows: 1 };
	});
	return { summary, profile: entry.merged.profile, hit: entry.hit, derive: (key, make) => entry.derive(key, make) };
}
