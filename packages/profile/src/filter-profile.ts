import type { Profile } from './profile.ts';
import { ProfileBuilder } from './profile-builder.ts';

export interface ProfileFilter {
	/** Keep only these processes; absent means any pid. */
	readonly pids?: readonly number[];
	/** Keep only these command names; absent means any comm. */
	readonly comms?: readonly string[];
}

/**
 * The samples matching every given criterion, with the same window. Frames no kept sample uses are
 * dropped so a filtered profile exports small.
 */
export function filterProfile(profile: Profile, filter: ProfileFilter): Profile {
	const pids = filter.pids ? new Set(filter.pids) : undefined;
	const comms = filter.comms ? new Set(filter.comms) : undefined;
	const builder = new ProfileBuilder(profile);
	builder.appendProfile(profile, (sample) => (!pids || pids.has(sample.pid)) && (!comms || comms.has(sample.comm)));
	return builder.build();
}
