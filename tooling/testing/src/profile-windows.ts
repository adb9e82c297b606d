import type { ProfileWindow } from '@firesight/protocol';

export type WindowFrame = ProfileWindow['frames'][number];
export type WindowSample = ProfileWindow['samples'][number];

/** A kernel function's frame, as the symbolizer names one. */
export const kernelFrame = (name: string): WindowFrame => ({ name, module: '[kernel.kallsyms]', kind: 'kernel' });

/** Frames of `module`: a bare name is a user function of it; a frame is taken as given. */
export function userFrames(module: string, ...frames: (string | WindowFrame)[]): WindowFrame[] {
	return frames.map((f) => (typeof f === 'string' ? { name: f, module, kind: 'user' } : f));
}

/** A profile window of 10 s at 100 Hz, unless `over` says otherwise. */
export function profileWindow(
	host: string,
	startMs: number,
	frames: ProfileWindow['frames'],
	samples: ProfileWindow['samples'],
	over: Partial<Pick<ProfileWindow, 'durationMs' | 'frequencyHz'>> = {},
): ProfileWindow {
	return { host, startMs, durationMs: 10_000, frequencyHz: 100, ...over, frames, samples };
}
