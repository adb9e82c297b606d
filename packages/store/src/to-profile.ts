import { ProfileBuilder, type Profile } from '@firesight/profile';
import type { ProfileQuery, StackAggregate, Store } from './store.ts';

/**
 * A merged aggregate as a Profile. The window is the queried range; with no data the frequency
 * falls back to `fallbackHz` so the profile stays valid (and empty). Samples of several hosts
 * with the same (stack, pid, comm) add up, which is what a fleet-wide flame graph wants.
 */
export function aggregateToProfile(agg: StackAggregate, range: { fromMs: number; toMs: number }, fallbackHz = 99): Profile {
	const meta = {
		startMs: range.fromMs,
		durationMs: Math.max(0, range.toMs - range.fromMs),
		frequencyHz: agg.frequencyHz > 0 ? agg.frequencyHz : fallbackHz,
	};
	// One host: the aggregate already holds each (stack, pid, comm) once, so the builder's
	// deduplication (a string key per sample) would be pure cost on large ranges.
	const host = agg.stacks[0]?.host;
	if (agg.stacks.every((s) => s.host === host)) {
		return {
			...meta,
			frames: agg.frames.map((f) => ({ name: f.name, module: f.module, kind: f.kind })),
			samples: agg.stacks.map((s) => ({ stack: s.frameIds, weight: s.count, pid: s.pid, comm: s.comm })),
		};
	}
	const builder = new ProfileBuilder(meta);
	// Intern in the aggregate's order so its ids equal the builder's (the aggregate is deduplicated).
	for (const f of agg.frames) builder.frames.intern(f);
	for (const s of agg.stacks) builder.appendSampleIds(s.frameIds.slice(), s.count, s);
	return builder.build();
}

/** Runs a merged query and returns it as a Profile, with the aggregate's bookkeeping. */
export async function queryProfile(
	store: Store,
	query: ProfileQuery,
): Promise<{ profile: Profile; windows: number; totalSamples: number; frequencyHz: number }> {
	const agg = await store.queryStacks(query);
	return {
		profile: aggregateToProfile(agg, query),
		windows: agg.windows,
		totalSamples: agg.totalSamples,
		frequencyHz: agg.frequencyHz,
	};
}
