/**
 * Which stored messages of each collector run the store already holds, as a high-water mark
 * per (host, boot id): a collector sends and replays its stored messages in sequence order, so
 * "seq at most the mark" means "already stored"; a replayed id at or under the mark is
 * acknowledged without a second insert.
 *
 * A message's insert takes its id and stores it in the same write as its rows (SQLite: one
 * transaction with the ledger row; ClickHouse, which has no transactions: the id is a column
 * of the rows, in their one INSERT, and the mark is read from the data too). So a hub that dies
 * after the insert and before anything else still finds the message on replay. `record` is for
 * a message with nothing to insert, and repeats the mark after an insert that carried it.
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
