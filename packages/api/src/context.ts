import type { HostStatus, LiveConnectionsMessage, ProcessesMessage } from '@firesight/protocol';
import type { ConnectionStore, RequestStore, Store } from '@firesight/store';

/** What the hub knows live, in memory: collector status and each host's latest process table. */
export interface LiveView {
	hosts(): HostStatus[];
	/** Latest snapshot per host, or only `host`'s. */
	processes(host?: string): ProcessesMessage[];
	/** Latest connection table per host, or only `host`'s. */
	connections?(host?: string): LiveConnectionsMessage[];
}

export interface ApiContext {
	store: Store;
	live: LiveView;
	/** Stored TCP retransmits; the network procedures answer UNAVAILABLE without it. */
	connections?: ConnectionStore;
	/** Stored HTTPS requests and endpoint aggregates; the requests procedures answer UNAVAILABLE without it. */
	requests?: RequestStore;
	now?: () => number;
}
