import type { WarmUp } from '@firesight/protocol';
import type { HostStatus } from './live-messages.ts';
import type { HostProcesses } from './live-store.ts';

/** What the hub's store knows of a host (`hosts.list`), for hosts not connected since it started. */
export interface StoredHost {
	host: string;
	lastSeenMs: number;
	frequencyHz: number;
	version?: string | undefined;
	windows: number;
}

/** One line of the Hosts page. */
export interface HostRow {
	host: string;
	connected: boolean;
	/** When the hub last heard from the collector (live), or the end of its newest stored window. */
	lastSeenMs: number;
	version: string | null;
	frequencyHz: number;
	drops: number;
	/** Non-zero loss counters, largest first. */
	dropCounters: [name: string, count: number][];
	/** Sum of the CPU % of the host's live process rows; null without a live process table. */
	cpuPercent: number | null;
	/** Stored messages the hub has not acknowledged yet; null when the collector does not report it. */
	spool: { messages: number; bytes: number } | null;
	running: readonly string[];
	failed: readonly { name: string; reason: string }[];
	/** Features still warming up (the profiler loading unwind tables). */
	warmingUp: readonly WarmUp[];
	/** Stored profile windows, when the store was asked. */
	windows: number | null;
}

/**
 * Every host the live status or the store knows, by name. Live status wins where both exist: it
 * is what the collector says now.
 */
export function hostRows(
	live: readonly HostStatus[],
	stored: readonly StoredHost[] | null,
	processes: ReadonlyMap<string, HostProcesses>,
): HostRow[] {
	const rows = new Map<string, HostRow>();
	const storedBy = new Map((stored ?? []).map((s) => [s.host, s]));
	for (const s of stored ?? []) {
		rows.set(s.host, {
			host: s.host,
			connected: false,
			lastSeenMs: s.lastSeenMs,
			version: s.version ?? null,
			frequencyHz: s.frequencyHz,
			drops: 0,
			dropCounters: [],
			cpuPercent: null,
			spool: null,
			running: [],
			failed: [],
			warmingUp: [],
			windows: s.windows,
		});
	}
	for (const h of live) {
		const counters = Object.entries(h.drops)
			.filter(([, count]) => count > 0)
			.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
		const table = h.connected ? processes.get(h.host) : undefined;
		rows.set(h.host, {
			host: h.host,
			connected: h.connected,
			lastSeenMs: h.lastSeenMs,
			version: h.version ?? null,
			frequencyHz: h.frequencyHz,
			drops: counters.reduce((sum, [, count]) => sum + count, 0),
			dropCounters: counters,
			cpuPercent: table ? table.processes.reduce((sum, p) => sum + p.cpuPercent, 0) : null,
			spool: h.spool ?? null,
			running: h.features?.running ?? [],
			failed: h.features?.failed ?? [],
			warmingUp: h.connected ? (h.warmingUp ?? []) : [],
			windows: stored === null ? null : (storedBy.get(h.host)?.windows ?? 0),
		});
	}
	return [...rows.values()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}
