import type { Profile } from './profile.ts';

/** Case-insensitive substring match: one rule for the graph's highlight, its share and the table. */
export function matchesSearch(name: string, term: string): boolean {
	const needle = term.trim().toLowerCase();
	return needle.length > 0 && name.toLowerCase().includes(needle);
}

export interface SearchCount {
	/** Weight of samples with at least one matching frame, each sample counted once. */
	readonly matched: number;
	/** Weight of every sample searched. */
	readonly total: number;
	/** Distinct functions (frames) that match and were sampled. */
	readonly functions: number;
}

/**
 * Counts what a search finds in a whole profile, before any pruning, so it agrees with the top
 * functions table (a function's total is the same "anywhere on the stack, once" rule).
 */
export function searchProfile(profile: Profile, term: string): SearchCount {
	const hit = profile.frames.map((frame) => matchesSearch(frame.name, term));
	const used = new Uint8Array(profile.frames.length);
	let matched = 0;
	let total = 0;
	for (const sample of profile.samples) {
		total += sample.weight;
		let found = false;
		for (const id of sample.stack) {
			if (hit[id]) {
				found = true;
				used[id] = 1;
			}
		}
		if (found) matched += sample.weight;
	}
	let functions = 0;
	for (let id = 0; id < used.length; id++) functions += used[id]!;
	return { matched, total, functions };
}
