import type { Profile } from '@firesight/profile';
import type { MessageId, ProfileWindow } from '@firesight/protocol';

/** Which samples a query merges. Windows overlapping [fromMs, toMs) are included whole. */
export interface ProfileQuery {
	fromMs: number;
	toMs: number;
	host?: string | undefined;
	pid?: number | undefined;
	comm?: string | undefined;
	/** Only samples attributed to this endpoint (`METHOD /path/template`), exactly. */
	endpoint?: string | undefined;
	/** Only samples attributed to this request (a request record's `requestId`). */
	requestId?: string | undefined;
}

/** `ProfileQuery` cut into equal buckets: [fromMs + i * bucketMs, fromMs + (i + 1) * bucketMs). */
export interface TimelineQuery extends ProfileQuery {
	bucketMs: number;
}

/** A merged query's answer: one profile and how many stored windows went into it. */
export interface MergedProfile {
	/**
	 * startMs and durationMs are the queried range. frequencyHz is the mean over the merged
	 * windows weighted by their duration, or `FALLBACK_FREQUENCY_HZ` when none matched, so the
	 * profile stays valid (and empty). Samples of several hosts with the same stack and labels
	 * (pid, comm, endpoint, requestId, ambiguous) add up into one: that is what a fleet-wide
	 * flame graph wants. Frames are only those the samples use.
	 */
	profile: Profile;
	windows: number;
}

/** The frequency an empty merged profile states (the collector's default rate). */
export const FALLBACK_FREQUENCY_HZ = 99;

export interface HostSummary {
	host: string;
	firstMs: number;
	/** End of the newest window. */
	lastMs: number;
	windows: number;
	/** Mean over the host's windows, weighted by their duration. */
	frequencyHz: number;
}

export interface ProcessSeen {
	host: string;
	pid: number;
	comm: string;
	/** End of the newest window with a sample of it. */
	lastMs: number;
}

/** Profile windows, per host, merged at query time. */
export interface ProfileStore {
	/**
	 * Stores one window. Resolves once the window is durable (a backend may gather concurrent
	 * calls into one write) and a query sees it; rejects, keeping nothing of it, when it cannot.
	 * With the collector message's `id`, the id goes into the same write (see IngestLedger).
	 */
	insertWindow(window: ProfileWindow, id?: MessageId): Promise<void>;
	/** Merges every matching window into one profile; an empty profile when nothing matches. */
	query(query: ProfileQuery): Promise<MergedProfile>;
	/** Every host with a retained window, sorted by name. */
	listHosts(): Promise<HostSummary[]>;
	/**
	 * The newest sighting of a pid (on one host, or any) in the retained windows, or null:
	 * tells "unknown pid" apart from "no samples in this range".
	 */
	findProcess(pid: number, host?: string): Promise<ProcessSeen | null>;
	/**
	 * Samples per bucket over the range, of the windows `query` would merge with the same filters:
	 * a window counts whole in the bucket of its start (one that starts before fromMs, in the
	 * first). One number per bucket, ceil((toMs - fromMs) / bucketMs) of them.
	 */
	timeline(query: TimelineQuery): Promise<number[]>;
	/**
	 * Times the store's caches of stored ids outgrew their budget and started over since it was
	 * opened. Nothing is lost: forgotten ids are read (or written) again, at some cost in time,
	 * so a rising count says the budget is small for this load.
	 */
	readonly cacheResets: number;
}
