import type { CommandEndpoint } from '../../lib/endpoint-groups.ts';

/**
 * Links from one endpoint row to other views, at the end of its Endpoint cell (for example the
 * CPU profile of the samples attributed to it). None yet.
 */
export function EndpointActions(_props: { endpoint: CommandEndpoint }) {
	return null;
}
