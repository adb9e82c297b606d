import type { Frame, ProfileWindow } from '@firesight/protocol';

/** Which samples a query merges. Windows overlapping [fromMs, toMs) are included whole. */
export interface ProfileQuery {
	fromMs: number;
	toMs: number;
	host?: string | undefined;
	pid?: number | undefined;
	comm?: string | undefined;
}

/** One merged stack: samples summed over every matching window. */
export interface AggregateStack {
	host: string;
	pid: number;
	comm: string;
	/** Root first; indices into `StackAggregate.frames`. */
	frameIds: number[];
	count: number;
}

/**
 * The result of a merged query before it becomes a Profile: frames interned across hosts, one
 * row per distinct (host, pid, comm, stack). Kept as plain data so any backend can produce it.
 */
export interface StackAggregate {
	frames: Frame[];
	stacks: AggregateStack[];
	totalSamples: number;
	/** Number of stored windows merged. */
	windows: number;
	/** Mean sampling frequency over the merged windows, 0 when there are none. */
	frequencyHz: number;
	/** Span of the merged windows, or null when there are none. */
	firstMs: number | null;
	lastMs: number | null;
}

export interface HostSummary {
	host: string;
	firstMs: number;
	/** End of the newest window. */
	lastMs: number;
	windows: number;
	frequencyHz: number;
}

export interface ProcessSeen {
	host: string;
	pid: number;
	comm: string;
	lastMs: number;
}

export interface PruneResult {
	windows: number;
	frames: number;
	stacks: number;
}

/**
 * Storage of profile windows. Methods are async so a networked backend (ClickHouse) fits the
 * same shape as the embedded SQLite one.
 */
export interface Store {
	insertWindow(window: ProfileWindow): Promise<void>;
	queryStacks(query: ProfileQuery): Promise<StackAggregate>;
	listHosts(): Promise<HostSummary[]>;
	/** Newest sighting of a pid (optionally on one host) in the retained data, or null. */
	findProcess(pid: number, host?: string): Promise<ProcessSeen | null>;
	/** Drops windows older than the retention and the frames and stacks nothing refers to. */
	prune(nowMs?: number): Promise<PruneResult>;
	close(): Promise<void>;
}
