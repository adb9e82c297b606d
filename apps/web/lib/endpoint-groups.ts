import type { EndpointSummary } from '@firesight/store';
import { addEndpointTotals, emptyEndpointTotals, endpointFigures, type EndpointTotals } from '@firesight/store/endpoint-totals';

export { histogramBuckets } from '@firesight/store/endpoint-totals';

/**
 * One endpoint of one command on one host, its server and client sides apart: every `curl` that
 * called `GET /api/users/:id` is one row, not one per pid. Counts and histograms are summed over
 * the command's processes; the percentiles come from the summed histogram.
 */
export interface CommandEndpoint extends Omit<EndpointSummary, 'pid'> {
	/** host, comm, role, method and endpoint: stable across refetches. */
	id: string;
	/** The processes of the command that made or served it, ascending. */
	pids: number[];
}

export const commandEndpointId = (e: Pick<EndpointSummary, 'host' | 'comm' | 'role' | 'method' | 'endpoint'>): string =>
	`${e.host}|${e.comm}|${e.role}|${e.method}|${e.endpoint}`;

/** Most requests first, as the store answers. */
export function groupByCommand(endpoints: readonly EndpointSummary[]): CommandEndpoint[] {
	const groups = new Map<string, { first: EndpointSummary; pids: number[]; ratePerSec: number; totals: EndpointTotals }>();
	for (const e of endpoints) {
		const id = commandEndpointId(e);
		let group = groups.get(id);
		if (!group) {
			group = { first: e, pids: [], ratePerSec: 0, totals: emptyEndpointTotals(e.histogram.length) };
			groups.set(id, group);
		}
		if (!group.pids.includes(e.pid)) group.pids.push(e.pid);
		// Rates of one host's processes cover the same windows, so they add up.
		group.ratePerSec += e.ratePerSec;
		addEndpointTotals(group.totals, { ...e, sumMs: e.meanMs * e.count });
	}
	const rows: CommandEndpoint[] = [];
	for (const [id, { first: e, pids, ratePerSec, totals }] of groups) {
		rows.push({
			id,
			host: e.host,
			comm: e.comm,
			role: e.role,
			method: e.method,
			endpoint: e.endpoint,
			pids: pids.sort((a, b) => a - b),
			ratePerSec,
			...endpointFigures(totals),
		});
	}
	return rows.sort((a, b) => b.count - a.count);
}
