import type { CommandEndpoint } from '../../lib/endpoint-groups.ts';
import type { TimeRange } from '../../lib/profile-query.ts';
import { EndpointCpuLink } from '../endpoint-cpu/endpoint-cpu-links.tsx';

/**
 * Links from one endpoint row to other views, at the end of its Endpoint cell: the CPU profile
 * of the samples attributed to it (over `range`, the last 15 minutes when not given).
 */
export function EndpointActions({ endpoint, range }: { endpoint: CommandEndpoint; range?: TimeRange | undefined }) {
	return <EndpointCpuLink endpoint={endpoint} range={range} />;
}
