import { widerPreset, type ProfileQueryState, type RangePresetId } from './profile-query.ts';
import type { HostWarmUp } from './profiler-warm-up.ts';

/** What the hub answered about a pid (the `processes.find` procedure). */
export type PidLookup = { known: false } | { known: true; live: boolean; host: string; comm: string; lastMs: number };

export interface EmptyProfileContext {
	query: Pick<ProfileQueryState, 'range' | 'pid' | 'comm' | 'hosts'>;
	/** The pid's row in the browser's live process table, when it is there. */
	liveProcess: { comm: string } | undefined;
	/** The hub's answer about the pid; null until it answers, or when it could not. */
	lookup: PidLookup | null;
	/** Collectors connected to the hub; null while the page does not know yet. */
	connectedCollectors: number | null;
	/** The query's hosts whose profiler is warming up now (see profilerWarmUps). */
	warmUps?: readonly HostWarmUp[];
}

/** Why a merged profile has no samples, with what the page needs to say so and offer a way out. */
export type EmptyProfileReason =
	/** The process runs but none of its samples are stored in the range (yet). */
	| { kind: 'process-idle'; pid: number; comm: string; fixedRange: boolean }
	/** The hub saw the process earlier; it is gone. */
	| { kind: 'process-exited'; pid: number; comm: string; host: string; lastMs: number }
	/** No host has ever reported the pid (`seen: false`), or the hub has not said (`seen: null`). */
	| { kind: 'pid-not-found'; pid: number; seen: false | null; widerPreset: RangePresetId | null }
	| { kind: 'no-collector' }
	/** A host's profiler loads the running processes' unwind tables before its first window. */
	| { kind: 'warming-up'; warmUps: readonly HostWarmUp[] }
	| { kind: 'filters-match-nothing'; comm: string }
	| { kind: 'no-samples-in-range'; fixedRange: boolean };

export function emptyProfileReason({
	query,
	liveProcess,
	lookup,
	connectedCollectors,
	warmUps = [],
}: EmptyProfileContext): EmptyProfileReason {
	const fixedRange = query.range.kind === 'absolute';
	// A range up to now is empty because the profile has not started yet: that first, whatever
	// the filters (a process's samples wait for the same warm-up). A fixed range is another matter.
	if (!fixedRange && warmUps.length > 0) return { kind: 'warming-up', warmUps };
	if (query.pid !== null) {
		const pid = query.pid;
		const running = liveProcess ?? (lookup?.known && lookup.live ? lookup : undefined);
		if (running) return { kind: 'process-idle', pid, comm: running.comm, fixedRange };
		if (lookup?.known) return { kind: 'process-exited', pid, comm: lookup.comm, host: lookup.host, lastMs: lookup.lastMs };
		return { kind: 'pid-not-found', pid, seen: lookup === null ? null : false, widerPreset: widerPreset(query.range)?.id ?? null };
	}
	// With no process filter, an empty profile is most often explained by nobody sending one.
	if (connectedCollectors === 0 && !query.comm) return { kind: 'no-collector' };
	if (query.comm || query.hosts.length > 0) return { kind: 'filters-match-nothing', comm: query.comm };
	return { kind: 'no-samples-in-range', fixedRange };
}
