import type { HostStatus, WarmUp } from '@firesight/protocol';
import { formatClock, formatInt } from './format.ts';

/** One host's CPU profiler warming up. */
export interface HostWarmUp extends WarmUp {
	host: string;
}

/**
 * The CPU profiler warm-ups of the hosts a query covers (every host when it names none), of
 * connected collectors only, by host name. While one lasts, that host's samples are not stored yet.
 */
export function profilerWarmUps(hosts: readonly HostStatus[] | undefined, selected: readonly string[]): HostWarmUp[] {
	const out: HostWarmUp[] = [];
	for (const h of hosts ?? []) {
		if (!h.connected || (selected.length > 0 && !selected.includes(h.host))) continue;
		for (const w of h.warmingUp ?? []) if (w.feature === 'profile') out.push({ host: h.host, ...w });
	}
	return out.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

/**
 * The warm-ups of the hosts any of several live queries covers (a diff's two sides), each given
 * as its host selection ([] for every host); none when no query is live.
 */
export function profilerWarmUpsOfQueries(
	hosts: readonly HostStatus[] | undefined,
	selections: readonly (readonly string[])[],
): HostWarmUp[] {
	if (selections.length === 0) return [];
	if (selections.some((selected) => selected.length === 0)) return profilerWarmUps(hosts, []);
	return profilerWarmUps(hosts, [...new Set(selections.flat())]);
}

/** "since 14:02:11 · 23 unwind tables loaded · 4 processes to read" */
export function describeWarmUp(w: WarmUp): string {
	const parts = [`since ${formatClock(w.sinceMs)}`];
	if (w.tablesLoaded !== undefined) parts.push(`${formatInt(w.tablesLoaded)} unwind ${w.tablesLoaded === 1 ? 'table' : 'tables'} loaded`);
	if (w.processesQueued) parts.push(`${formatInt(w.processesQueued)} ${w.processesQueued === 1 ? 'process' : 'processes'} to read`);
	return parts.join(' · ');
}

/** "web-1", "web-1 and db-1", "web-1, db-1 and 2 more" */
export function hostList(warmUps: readonly HostWarmUp[]): string {
	const names = warmUps.map((w) => w.host);
	if (names.length <= 1) return names[0] ?? '';
	if (names.length === 2) return `${names[0]} and ${names[1]}`;
	return `${names[0]}, ${names[1]} and ${names.length - 2} more`;
}
