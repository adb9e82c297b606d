import { parseLiveServerMessage, type HostStatus, type LiveServerMessage } from '@firesight/protocol';

export type {
	ConnectionRow,
	HostStatus,
	LiveConnectionsMessage,
	LiveRequest,
	LiveRequestsMessage,
	LiveServerMessage,
	ProcessesMessage,
	ProcessRow,
	StatusMessage,
	WindowMessage,
} from '@firesight/protocol';

/**
 * Decodes one text frame of `/live`; null for anything invalid or unknown, so a newer hub's
 * extra message types are ignored instead of breaking the page.
 */
export function parseLiveMessage(text: string): LiveServerMessage | null {
	const result = parseLiveServerMessage(text);
	return result.ok ? result.value : null;
}

/** Why a feature is off, `host: reason` for each connected host that reported it failed. */
export function featureFailures(hosts: readonly HostStatus[], feature: string): string[] {
	return hosts.flatMap((h) =>
		h.connected ? (h.features?.failed ?? []).filter((f) => f.name === feature).map((f) => `${h.host}: ${f.reason}`) : [],
	);
}

/** One number for the header: the sum of a collector's named loss counters. */
export function totalDrops(host: Pick<HostStatus, 'drops'>): number {
	return Object.values(host.drops).reduce((sum, count) => sum + count, 0);
}
