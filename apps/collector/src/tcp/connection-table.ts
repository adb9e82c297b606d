import type { TcpConnection, TcpEvent } from '@firesight/native';
import type { ConnectionRow, ConnectionsSnapshot, ProcessRetransmits, RetransmitWindow } from '@firesight/protocol';
import { monotonicToEpochMs } from '../monotonic-clock.ts';
import { RateWindow } from './rate-window.ts';

/** The table as of one moment: what a live snapshot sends, less the host and the cap on rows. */
export type ConnectionTableSnapshot = Omit<ConnectionsSnapshot, 'host' | 'omitted'>;

export interface ConnectionTableOptions {
	/** Wall clock in epoch ms. */
	now?: () => number;
	/** CLOCK_MONOTONIC nanoseconds (the kernel's timestamps) to epoch ms. */
	monotonicToEpochMs?: (ns: bigint) => number;
	/** How long closed connections stay in the table. */
	closedRetentionMs?: number;
	/** Keep LISTEN sockets as rows (they never retransmit data). */
	includeListeners?: boolean;
}

interface Row {
	conn: TcpConnection;
	rate: RateWindow;
	windowRetransmits: number;
}

/** Times on the wire are whole epoch milliseconds. */
const wholeMs = (ms: number) => Math.max(0, Math.round(ms));

export function connectionKey(c: Pick<TcpConnection, 'family' | 'saddr' | 'sport' | 'daddr' | 'dport' | 'pid'>): string {
	const addr = (a: string, p: number) => (c.family === 6 ? `[${a}]:${p}` : `${a}:${p}`);
	return `${addr(c.saddr, c.sport)}>${addr(c.daddr, c.dport)}/${c.pid}`;
}

/**
 * The collector's TCP connection table, fed by the TcpTracer's live events (applyEvents) and
 * its kernel-map reads (applyConnections). Counts are cumulative per connection as the kernel
 * keeps them, so a missed event only delays a count until the next read; nothing is counted twice.
 */
export class ConnectionTable {
	readonly #rows = new Map<string, Row>();
	readonly #processes = new Map<number, { comm: string; retransmits: number; rate: RateWindow }>();
	readonly #now: () => number;
	readonly #toEpoch: (ns: bigint) => number;
	readonly #retentionMs: number;
	readonly #includeListeners: boolean;
	#windowStart: number;

	constructor(options: ConnectionTableOptions = {}) {
		this.#now = options.now ?? Date.now;
		this.#toEpoch = options.monotonicToEpochMs ?? ((ns) => monotonicToEpochMs(ns));
		this.#retentionMs = options.closedRetentionMs ?? 60_000;
		this.#includeListeners = options.includeListeners ?? false;
		this.#windowStart = wholeMs(this.#now());
	}

	/** Live events from the ring buffer, in kernel order. */
	applyEvents(events: readonly TcpEvent[]): void {
		for (const e of events) this.#apply(e.connection, this.#toEpoch(e.tsNs));
	}

	/** A kernel-map read (readConnections/drainConnections): the authoritative counts. */
	applyConnections(connections: readonly TcpConnection[]): void {
		const at = this.#now();
		for (const c of connections) {
			this.#apply(c, c.lastRetransmitNs > 0n ? this.#toEpoch(c.lastRetransmitNs) : at);
		}
	}

	#apply(c: TcpConnection, at: number): void {
		if (c.sport === 0 && c.dport === 0) return; // connect() before the port is bound
		if (c.state === 'LISTEN' && !this.#includeListeners) return;
		const key = connectionKey(c);
		let row = this.#rows.get(key);
		if (row && row.conn.cookie !== c.cookie) {
			// The 4-tuple was reused by a newer socket: older news about the old one is dropped.
			if (c.startNs < row.conn.startNs) return;
			row = undefined;
		}
		const previous = row?.conn.retransmits ?? 0;
		// Events can arrive after a newer map read: never let the counts go back.
		if (row && c.retransmits < previous) return;
		if (!row) {
			row = { conn: c, rate: new RateWindow(), windowRetransmits: 0 };
			this.#rows.set(key, row);
		}
		row.conn = c;
		const added = c.retransmits - previous;
		if (added > 0) {
			row.rate.add(at, added);
			row.windowRetransmits += added;
			let p = this.#processes.get(c.pid);
			if (!p) {
				p = { comm: c.comm, retransmits: 0, rate: new RateWindow() };
				this.#processes.set(c.pid, p);
			}
			p.comm = c.comm || p.comm;
			p.retransmits += added;
			p.rate.add(at, added);
		}
	}

	/** Forgets connections closed longer ago than the retention. */
	prune(): void {
		const cutoff = this.#now() - this.#retentionMs;
		for (const [key, row] of this.#rows) {
			if (row.conn.endNs > 0n && this.#toEpoch(row.conn.endNs) < cutoff) this.#rows.delete(key);
		}
		for (const [pid, p] of this.#processes) {
			const hasRow = [...this.#rows.values()].some((r) => r.conn.pid === pid);
			if (!hasRow && p.rate.sum(this.#now()) === 0) this.#processes.delete(pid);
		}
	}

	snapshot(): ConnectionTableSnapshot {
		const at = this.#now();
		const connections: ConnectionRow[] = [];
		const perProcess = new Map<number, ProcessRetransmits>();
		for (const [key, row] of this.#rows) {
			const r = this.#row(key, row, at);
			connections.push(r);
			let p = perProcess.get(r.pid);
			if (!p) {
				const totals = this.#processes.get(r.pid);
				p = {
					pid: r.pid,
					comm: r.comm || totals?.comm || '',
					connections: 0,
					openConnections: 0,
					retransmits: totals?.retransmits ?? 0,
					retransmitsPerSecond: totals?.rate.sum(at) ?? 0,
					bytesSent: 0,
					bytesReceived: 0,
				};
				perProcess.set(r.pid, p);
			}
			p.connections++;
			if (r.closedAt === null) p.openConnections++;
			p.bytesSent += r.bytesSent;
			p.bytesReceived += r.bytesReceived;
		}
		for (const [pid, totals] of this.#processes) {
			if (perProcess.has(pid)) continue;
			perProcess.set(pid, {
				pid,
				comm: totals.comm,
				connections: 0,
				openConnections: 0,
				retransmits: totals.retransmits,
				retransmitsPerSecond: totals.rate.sum(at),
				bytesSent: 0,
				bytesReceived: 0,
			});
		}
		const byRetransmits = (a: { retransmits: number }, b: { retransmits: number }) => b.retransmits - a.retransmits;
		const processes = [...perProcess.values()].sort(byRetransmits);
		return {
			ts: wholeMs(at),
			connections: connections.sort(byRetransmits),
			processes,
			totals: {
				connections: connections.length,
				openConnections: connections.filter((c) => c.closedAt === null).length,
				retransmits: processes.reduce((n, p) => n + p.retransmits, 0),
				retransmitsPerSecond: processes.reduce((n, p) => n + p.retransmitsPerSecond, 0),
			},
		};
	}

	/** Connections that retransmitted since the previous call, with how many times. */
	takeWindow(): Omit<RetransmitWindow, 'host'> {
		const end = wholeMs(this.#now());
		const startMs = this.#windowStart;
		const out: Omit<RetransmitWindow, 'host'> = { startMs, durationMs: Math.max(1, end - startMs), connections: [] };
		for (const [key, row] of this.#rows) {
			if (row.windowRetransmits === 0) continue;
			const r = this.#row(key, row, end);
			out.connections.push({
				cookie: r.cookie,
				pid: r.pid,
				comm: r.comm,
				family: r.family,
				saddr: r.saddr,
				sport: r.sport,
				daddr: r.daddr,
				dport: r.dport,
				state: r.state,
				firstRetransmitAt: r.firstRetransmitAt,
				lastRetransmitAt: r.lastRetransmitAt,
				retransmits: row.windowRetransmits,
			});
			row.windowRetransmits = 0;
		}
		this.#windowStart = end;
		return out;
	}

	#row(key: string, row: Row, at: number): ConnectionRow {
		const c = row.conn;
		const openedAt = wholeMs(this.#toEpoch(c.startNs));
		const closedAt = c.endNs > 0n ? wholeMs(this.#toEpoch(c.endNs)) : null;
		return {
			key,
			cookie: String(c.cookie),
			pid: c.pid,
			comm: c.comm,
			family: c.family,
			saddr: c.saddr,
			sport: c.sport,
			daddr: c.daddr,
			dport: c.dport,
			state: c.state,
			direction: c.direction,
			openedAt,
			openedBeforeTracing: c.midway,
			closedAt,
			ageMs: Math.max(0, (closedAt ?? at) - openedAt),
			bytesSent: c.bytesAcked,
			bytesReceived: c.bytesReceived,
			retransmits: c.retransmits,
			retransmitsPerSecond: row.rate.sum(at),
			firstRetransmitAt: c.firstRetransmitNs > 0n ? wholeMs(this.#toEpoch(c.firstRetransmitNs)) : null,
			lastRetransmitAt: c.lastRetransmitNs > 0n ? wholeMs(this.#toEpoch(c.lastRetransmitNs)) : null,
		};
	}
}
