import type { Frame } from './frame.ts';
import type { Profile, ProfileSample } from './profile.ts';

/** The module of the frames `groupByEndpoint` inserts: an endpoint level, not code. */
export const ENDPOINT_MODULE = '[endpoint]';

/** The level of samples no request was attributed to. */
export const NO_ENDPOINT = '(no request)';

/**
 * `GET /api/users/:id`, or `GET /api/users/:id (ambiguous)` for samples taken while several
 * requests were open on the thread: those stay apart, so an ambiguous share is never passed off
 * as the endpoint's own.
 */
export function endpointFrameName(sample: Pick<ProfileSample, 'endpoint' | 'ambiguous'>): string {
	if (sample.endpoint === undefined) return NO_ENDPOINT;
	return sample.ambiguous === true ? `${sample.endpoint} (ambiguous)` : sample.endpoint;
}

/**
 * A copy of the profile with an endpoint frame at the root of each sample's stack, so each
 * endpoint a process served gets its column under the process. Like `groupByProcess`, the input
 * is left as it is and the samples' labels do not change; applied before `groupByProcess`, the
 * levels read command, process, endpoint.
 */
export function groupByEndpoint(profile: Profile): Profile {
	const frames: Frame[] = [...profile.frames];
	const endpointFrame = new Map<string, number>();
	const samples: ProfileSample[] = profile.samples.map((sample) => {
		const name = endpointFrameName(sample);
		let id = endpointFrame.get(name);
		if (id === undefined) {
			id = frames.length;
			frames.push({ name, module: ENDPOINT_MODULE, kind: 'user' });
			endpointFrame.set(name, id);
		}
		return { ...sample, stack: [id, ...sample.stack] };
	});
	return { startMs: profile.startMs, durationMs: profile.durationMs, frequencyHz: profile.frequencyHz, frames, samples };
}
