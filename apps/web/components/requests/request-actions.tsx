import type { HostRequest } from '../../lib/live-store.ts';
import { RequestCpuLink } from '../endpoint-cpu/endpoint-cpu-links.tsx';

/**
 * Links from one request to other views, shown in its drawer's header: for a slow request, the
 * CPU profile of the time it was served, found by its `requestId` (its endpoint's p99 as the
 * threshold when given).
 */
export function RequestActions({ request, p99Ms }: { request: HostRequest; p99Ms?: number | null | undefined }) {
	return <RequestCpuLink request={request} p99Ms={p99Ms} />;
}
