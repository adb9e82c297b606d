/**
 * Which stored messages of each collector run the store already holds, as a high-water mark
 * per (host, boot id): a collector sends and replays its stored messages in sequence order, so
 * "seq at most the mark" means "already stored". The hub records a message after its insert
 * resolved, then acknowledges it; a replayed id at or under the mark is acknowledged without a
 * second insert. One row per collector run works without transactions (ClickHouse too).
 */
export interface IngestLedger {
	/** The highest sequence number recorded for this host's boot, or -1 when none is. */
	highWater(host: string, boot: string): Promise<number>;
	/**
	 * Records `seq` of this host's boot as stored; a seq under the recorded mark leaves it as it
	 * is. Durable once resolved. Retention forgets runs not written to for longer than it keeps data.
	 */
	record(host: string, boot: string, seq: number): Promise<void>;
}
