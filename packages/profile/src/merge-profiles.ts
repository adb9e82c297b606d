import type { Profile } from './profile.ts';
import { ProfileBuilder } from './profile-builder.ts';

/**
 * Merges profile windows into one: the window starts at the earliest start and lasts until the
 * latest end. Weights are sample counts, so only profiles sampled at the same frequency can be
 * added; anything else throws rather than silently mixing units.
 */
export function mergeProfiles(profiles: readonly Profile[]): Profile {
	const first = profiles[0];
	if (first === undefined) throw new RangeError('mergeProfiles needs at least one profile');
	let startMs = first.startMs;
	let endMs = first.startMs + first.durationMs;
	for (const profile of profiles) {
		if (profile.frequencyHz !== first.frequencyHz) {
			throw new RangeError(`cannot merge profiles sampled at ${first.frequencyHz} Hz and ${profile.frequencyHz} Hz`);
		}
		startMs = Math.min(startMs, profile.startMs);
		endMs = Math.max(endMs, profile.startMs + profile.durationMs);
	}
	const builder = new ProfileBuilder({ startMs, durationMs: endMs - startMs, frequencyHz: first.frequencyHz });
	for (const profile of profiles) builder.appendProfile(profile);
	return builder.build();
}
