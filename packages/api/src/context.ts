import type { HostStatus, ProcessesMessage } from '@firesight/protocol';
import type { Store } from '@firesight/store';

/** What the hub knows live, in memory: collector status and each host's latest process table. */
export interface LiveView {
	hosts(): HostStatus[];
	/** Latest snapshot per host, or only `host`'s. */
	processes(host?: string): ProcessesMessage[];
}

export interface ApiContext {
	store: Store;
	live: LiveView;
	now?: () => number;
}
