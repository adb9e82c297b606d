import { useSyncExternalStore } from 'react';

/**
 * Frames the flame graph on this page hid as narrower than a pixel (merged on the hub into one
 * grey remainder per parent). Not a loss, since their samples count in every total, but the
 * Drops panel lists it beside what was lost so that one place says what a view leaves out.
 */
export interface HiddenFrames {
	frames: number;
	samples: number;
	totalSamples: number;
}

let current: HiddenFrames | null = null;
const listeners = new Set<() => void>();

/** The page's flame graph says what it hides now; null when no graph is shown. */
export function publishHiddenFrames(next: HiddenFrames | null): void {
	if (
		next === current ||
		(next && current && next.frames === current.frames && next.samples === current.samples && next.totalSamples === current.totalSamples)
	)
		return;
	current = next;
	for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
	listeners.add(listener);
	return () => listeners.delete(listener);
}

export function useHiddenFrames(): HiddenFrames | null {
	return useSyncExternalStore(
		subscribe,
		() => current,
		() => null,
	);
}
