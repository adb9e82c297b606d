import type { HostRequest } from '../../lib/live-store.ts';

/**
 * Links from one request to other views, shown in its drawer's header (for example the CPU
 * profile of the time the request was served, found by its `requestId`). None yet.
 */
export function RequestActions(_props: { request: HostRequest }) {
	return null;
}
