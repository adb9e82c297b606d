import type { HostStatus, ProcessesMessage } from '@firesight/protocol';
import type { Storage } from '@firesight/store';

/** What the hub knows live, in memory: collector status and each host's latest process table. */
export interface LiveView {
	hosts(): HostStatus[];
	/** Latest snapshot per host, or only `host`'s. */
	processes(host?: string): ProcessesMessage[];
}

export interface ApiContext {
	/** What the hub stores; closing it is the hub's business. */
	storage: Pick<Storage, 'profiles' | 'connections' | 'requests' | 'shares'>;
	live: LiveView;
	/**
	 * Who is asking, as the hub can tell (see HubAccess.requester): the maker a share records
	 * when the caller names none. Absent outside a request.
	 */
	requester?: string | undefined;
}
