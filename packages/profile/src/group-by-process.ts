import type { Frame } from './frame.ts';
import type { Profile, ProfileSample } from './profile.ts';

/** The module of the frames `groupByProcess` inserts: a process level, not code. */
export const PROCESS_MODULE = '[process]';

/** `node (4242)`: the name of a process level. */
export function processFrameName(comm: string, pid: number): string {
	return `${comm} (${pid})`;
}

/**
 * A copy of the profile with a `comm (pid)` frame at the root of each sample's stack, so processes
 * that share a command name (every `node` on a host) get a column each under it. The input is
 * left as it is; the samples' pid and comm labels do not change.
 */
export function groupByProcess(profile: Profile): Profile {
	const frames: Frame[] = [...profile.frames];
	const processFrame = new Map<string, number>();
	const samples: ProfileSample[] = profile.samples.map((sample) => {
		const name = processFrameName(sample.comm, sample.pid);
		let id = processFrame.get(name);
		if (id === undefined) {
			id = frames.length;
			frames.push({ name, module: PROCESS_MODULE, kind: 'user' });
			processFrame.set(name, id);
		}
		return { ...sample, stack: [id, ...sample.stack] };
	});
	return { startMs: profile.startMs, durationMs: profile.durationMs, frequencyHz: profile.frequencyHz, frames, samples };
}
