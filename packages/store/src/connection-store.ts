import type { MessageId, RetransmitWindow } from '@firesight/protocol';

/** Which stored retransmits a query reads: windows starting in [fromMs, toMs). */
export interface ConnectionQuery {
	fromMs: number;
	toMs: number;
	host?: string | undefined;
	pid?: number | undefined;
}

/** One connection's retransmits summed over the queried windows. */
export interface ConnectionRetransmits {
	host: string;
	/** The kernel's socket cookie: two connections that reused a 4-tuple stay apart. */
	cookie: string;
	pid: number;
	comm: string;
	family: 4 | 6;
	saddr: string;
	sport: number;
	daddr: string;
	dport: number;
	retransmits: number;
	/** State in the newest window that holds the connection. */
	state: string;
	/** First and last retransmit seen in the range, epoch ms. */
	firstRetransmitAt: number | null;
	lastRetransmitAt: number | null;
}

export interface SeriesQuery extends ConnectionQuery {
	/** Bucket width; each window counts in the bucket its start falls in. */
	stepMs: number;
}

export interface SeriesPoint {
	/** Bucket start, epoch ms. */
	t: number;
	retransmits: number;
}

export interface RetransmitSeries {
	host: string;
	/** Absent for the host-wide series. */
	pid?: number;
	comm?: string;
	total: number;
	/** Only buckets with retransmits; missing buckets are zero. */
	points: SeriesPoint[];
}

export interface RetransmitSeriesResult {
	stepMs: number;
	/** First bucket start (fromMs rounded down to stepMs). */
	startMs: number;
	hosts: RetransmitSeries[];
	processes: RetransmitSeries[];
}

/** Per-window, per-connection TCP retransmits. */
export interface ConnectionStore {
	/**
	 * Stores one window's connections; resolves once durable, rejects keeping none of them.
	 * With the collector message's `id`, the id goes into the same write (see IngestLedger).
	 */
	insertWindow(window: RetransmitWindow, id?: MessageId): Promise<void>;
	/**
	 * Retransmits per connection (host and socket cookie), summed over the windows that start in
	 * the range; sorted by retransmits, most first.
	 */
	query(query: ConnectionQuery): Promise<ConnectionRetransmits[]>;
	/**
	 * Retransmits per host and per process in buckets of stepMs (widened so a series has at most
	 * `MAX_SERIES_BUCKETS`); each window counts in the bucket its start falls in. Both lists
	 * sorted by total, most first.
	 */
	series(query: SeriesQuery): Promise<RetransmitSeriesResult>;
}

/** Buckets a series query may return per series; bounds the work of a tiny step over a long range. */
export const MAX_SERIES_BUCKETS = 5_000;
