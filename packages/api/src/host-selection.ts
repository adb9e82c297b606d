import { ProfileBuilder } from '@firesight/profile';
import { FALLBACK_FREQUENCY_HZ, type MergedProfile, type ProfileQuery, type ProfileStore } from '@firesight/store';
import type { HostSelection } from './inputs.ts';

/**
 * The store filters by one host or none; a selection of several hosts is one store query per
 * host, merged here. Returns the hosts to query, `[undefined]` for every host.
 */
export function selectedHosts(selection: HostSelection | undefined): (string | undefined)[] {
	if (selection === undefined) return [undefined];
	if (typeof selection === 'string') return [selection];
	return [...new Set(selection)];
}

/** Runs `query` once per selected host and returns the answers in the selection's order. */
export function perHost<Q extends { host?: HostSelection | undefined }, R>(
	input: Q,
	query: (q: Omit<Q, 'host'> & { host: string | undefined }) => Promise<R>,
): Promise<R[]> {
	return Promise.all(selectedHosts(input.host).map((host) => query({ ...input, host })));
}

/**
 * Profiles of several hosts merged as the store merges windows of every host: samples with the
 * same (stack, pid, comm) add up, and the frequency is the mean over all windows (each host's
 * mean weighted by its number of windows; windows have the same length within a fleet).
 */
export async function queryProfiles(
	profiles: Pick<ProfileStore, 'query'>,
	query: Omit<ProfileQuery, 'host'> & { host?: HostSelection | undefined },
): Promise<MergedProfile> {
	const answers = await perHost(query, (q) => profiles.query(q));
	const [only] = answers;
	if (answers.length === 1 && only) return only;
	const windows = answers.reduce((sum, a) => sum + a.windows, 0);
	const frequencyHz =
		windows === 0 ? FALLBACK_FREQUENCY_HZ : answers.reduce((sum, a) => sum + a.profile.frequencyHz * a.windows, 0) / windows;
	const builder = new ProfileBuilder({ startMs: query.fromMs, durationMs: query.toMs - query.fromMs, frequencyHz });
	for (const { profile } of answers) builder.appendProfile(profile);
	return { profile: builder.build(), windows };
}
