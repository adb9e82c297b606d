/** What the hold needs of a connection: it stops and starts reading it. */
export interface Readable {
	pause(): void;
	resume(): void;
}

/** Messages read and not yet handled, of one host's connections (or of one connection before its hello). */
interface Account {
	messages: number;
	bytes: number;
	/** Connections counted here; the account goes once none is left and it holds nothing. */
	connections: number;
	/** Its connections the hold stopped reading, until the account is down to half its bounds. */
	readonly paused: Set<Readable>;
	host: string | undefined;
}

/** One connection's place in the hold. */
export interface HoldEntry {
	readonly connection: Readable;
	account: Account;
}

/**
 * The bound on what the hub has read from collectors and not yet handled, per host: all the
 * connections of one host share it. A collector that reconnects while the store is stalled
 * leaves its old connections' messages held until the store moves; bounded per connection, each
 * new connection could add as many again. A connection holds on its own account until its hello
 * names its host, then joins that host's. Reaching a bound, the hub stops reading every
 * connection of the host that delivers more (a read already under way is still parsed whole);
 * they are read again once the host's account is down to half of both bounds.
 */
export class IngestHold {
	readonly #maxMessages: number;
	readonly #maxBytes: number;
	readonly #hosts = new Map<string, Account>();
	/** Over every account. */
	readonly total = { messages: 0, bytes: 0 };
	/** The most one host (or one connection before its hello) held at once since the hub started. */
	readonly peak = { messages: 0, bytes: 0 };
	/** Times a connection was stopped because its host reached a bound. */
	pauses = 0;

	constructor(maxMessages: number, maxBytes: number) {
		this.#maxMessages = maxMessages;
		this.#maxBytes = maxBytes;
	}

	/** A new connection, on its own account until `join`. */
	open(connection: Readable): HoldEntry {
		return { connection, account: { messages: 0, bytes: 0, connections: 1, paused: new Set(), host: undefined } };
	}

	/** The connection speaks for `host` now: what it holds moves to the host's account. */
	join(entry: HoldEntry, host: string): void {
		const from = entry.account;
		if (from.host === host) return;
		let to = this.#hosts.get(host);
		if (!to) {
			to = { messages: 0, bytes: 0, connections: 0, paused: new Set(), host };
			this.#hosts.set(host, to);
		}
		// Only this connection's messages move: before its hello it held alone, and a connection
		// changing host names in one hello is rare enough to move its whole account's.
		to.messages += from.messages;
		to.bytes += from.bytes;
		from.messages = 0;
		from.bytes = 0;
		if (from.paused.delete(entry.connection)) to.paused.add(entry.connection);
		from.connections--;
		this.#forgetIfIdle(from);
		to.connections++;
		entry.account = to;
		this.#notePeak(to);
		this.#pauseIfFull(entry);
	}

	/** A message of `bytes` read from the connection. */
	take(entry: HoldEntry, bytes: number): void {
		const a = entry.account;
		a.messages++;
		a.bytes += bytes;
		this.total.messages++;
		this.total.bytes += bytes;
		this.#notePeak(a);
		this.#pauseIfFull(entry);
	}

	/**
	 * A message read from the connection is handled. `moved` is called for every connection of the
	 * host the hold had stopped: its store moves, so it is not a dead collector.
	 */
	release(entry: HoldEntry, bytes: number, moved: (connection: Readable) => void): void {
		const a = entry.account;
		a.messages--;
		a.bytes -= bytes;
		this.total.messages--;
		this.total.bytes -= bytes;
		for (const c of a.paused) moved(c);
		// Half way down, so a store just keeping up does not stop and start the host on every message.
		if (a.paused.size > 0 && a.messages <= this.#maxMessages / 2 && a.bytes <= this.#maxBytes / 2) {
			for (const c of a.paused) c.resume();
			a.paused.clear();
		}
		this.#forgetIfIdle(a);
	}

	/** The connection closed; what it still holds stays counted until it is handled. */
	close(entry: HoldEntry): void {
		entry.account.paused.delete(entry.connection);
		entry.account.connections--;
		this.#forgetIfIdle(entry.account);
	}

	#pauseIfFull(entry: HoldEntry): void {
		const a = entry.account;
		if (a.paused.has(entry.connection)) return;
		if (a.messages < this.#maxMessages && a.bytes < this.#maxBytes) return;
		a.paused.add(entry.connection);
		this.pauses++;
		entry.connection.pause();
	}

	#notePeak(a: Account): void {
		this.peak.messages = Math.max(this.peak.messages, a.messages);
		this.peak.bytes = Math.max(this.peak.bytes, a.bytes);
	}

	/** A host's account goes once it has no connection and holds nothing: hosts come and go. */
	#forgetIfIdle(a: Account): void {
		if (a.host !== undefined && a.connections <= 0 && a.messages <= 0 && this.#hosts.get(a.host) === a) this.#hosts.delete(a.host);
	}
}
