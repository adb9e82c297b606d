import type Database from 'better-sqlite3';
import type { MessageId } from '@firesight/protocol';
import type { IngestLedger } from '../ingest-ledger.ts';

/** Records a message's id in the caller's open transaction, so it commits or rolls back with the rows. */
export type RecordInTransaction = (host: string, id: MessageId) => void;

/** The ledger as one row per (host, boot) in `ingested_messages`. */
export class SqliteIngestLedger implements IngestLedger {
	readonly #read: Database.Statement<[string, string], { seq: number }>;
	readonly #write: Database.Statement<[string, string, number, number]>;
	readonly #prune: Database.Statement<[number]>;

	constructor(
		db: Database.Database,
		private readonly check: () => void,
		private readonly now: () => number,
	) {
		this.#read = db.prepare('SELECT seq FROM ingested_messages WHERE host = ? AND boot = ?');
		this.#write = db.prepare(
			`INSERT INTO ingested_messages (host, boot, seq, updated_ms) VALUES (?, ?, ?, ?)
			 ON CONFLICT (host, boot) DO UPDATE SET seq = max(seq, excluded.seq), updated_ms = excluded.updated_ms`,
		);
		this.#prune = db.prepare('DELETE FROM ingested_messages WHERE updated_ms < ?');
	}

	async highWater(host: string, boot: string): Promise<number> {
		this.check();
		return this.#read.get(host, boot)?.seq ?? -1;
	}

	async record(host: string, boot: string, seq: number): Promise<void> {
		this.check();
		this.#write.run(host, boot, seq, this.now());
	}

	/** For the stores' insert transactions: one statement, run inside them. */
	readonly recordInTransaction: RecordInTransaction = (host, id) => {
		this.#write.run(host, id.boot, id.seq, this.now());
	};

	prune(cutoffMs: number): void {
		this.#prune.run(cutoffMs);
	}
}
