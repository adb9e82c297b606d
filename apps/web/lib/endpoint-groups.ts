import type { EndpointSummary, HistogramBucket } from '@firesight/store';
import { bucketBoundsMs, histogramQuantile } from '@firesight/store/request-histogram';

/**
 * One endpoint of one command on one host, its server and client sides apart: every `curl` that
 * called `GET /api/users/:id` is one row, not one per pid. Counts and histograms are summed over
 * the command's processes; the percentiles come from the summed histogram.
 */
export interface CommandEndpoint {
	/** host, comm, role, method and endpoint: stable across refetches. */
	id: string;
	host: string;
	comm: string;
	role: 'client' | 'server';
	method: string;
	endpoint: string;
	/** The processes of the command that made or served it, ascending. */
	pids: number[];
	count: number;
	ratePerSec: number;
	errors: number;
	clientErrors: number;
	errorRate: number;
	reqBytes: number;
	respBytes: number;
	meanMs: number;
	maxMs: number;
	p50Ms: number;
	p90Ms: number;
	p99Ms: number;
	histogram: number[];
}

export const commandEndpointId = (e: Pick<EndpointSummary, 'host' | 'comm' | 'role' | 'method' | 'endpoint'>): string =>
	`${e.host}|${e.comm}|${e.role}|${e.method}|${e.endpoint}`;

/** Most requests first, as the store answers. */
export function groupByCommand(endpoints: readonly EndpointSummary[]): CommandEndpoint[] {
	const groups = new Map<string, CommandEndpoint & { sumMs: number }>();
	for (const e of endpoints) {
		const id = commandEndpointId(e);
		let group = groups.get(id);
		if (!group) {
			group = {
				id,
				host: e.host,
				comm: e.comm,
				role: e.role,
				method: e.method,
				endpoint: e.endpoint,
				pids: [],
				count: 0,
				ratePerSec: 0,
				errors: 0,
				clientErrors: 0,
				errorRate: 0,
				reqBytes: 0,
				respBytes: 0,
				meanMs: 0,
				maxMs: 0,
				p50Ms: 0,
				p90Ms: 0,
				p99Ms: 0,
				histogram: new Array<number>(e.histogram.length).fill(0),
				sumMs: 0,
			};
			groups.set(id, group);
		}
		if (!group.pids.includes(e.pid)) group.pids.push(e.pid);
		group.count += e.count;
		// Rates of one host's processes cover the same windows, so they add up.
		group.ratePerSec += e.ratePerSec;
		group.errors += e.errors;
		group.clientErrors += e.clientErrors;
		group.reqBytes += e.reqBytes;
		group.respBytes += e.respBytes;
		group.sumMs += e.meanMs * e.count;
		group.maxMs = Math.max(group.maxMs, e.maxMs);
		for (let i = 0; i < e.histogram.length; i++) group.histogram[i] = (group.histogram[i] ?? 0) + (e.histogram[i] ?? 0);
	}
	const rows: CommandEndpoint[] = [];
	for (const { sumMs, ...group } of groups.values()) {
		group.pids.sort((a, b) => a - b);
		group.errorRate = group.count ? group.errors / group.count : 0;
		group.meanMs = group.count ? sumMs / group.count : 0;
		group.p50Ms = histogramQuantile(group.histogram, 0.5, group.maxMs);
		group.p90Ms = histogramQuantile(group.histogram, 0.9, group.maxMs);
		group.p99Ms = histogramQuantile(group.histogram, 0.99, group.maxMs);
		rows.push(group);
	}
	return rows.sort((a, b) => b.count - a.count);
}

/** The histogram's buckets from the first to the last non-empty one, as the latency chart draws them. */
export function histogramBuckets(histogram: readonly number[]): HistogramBucket[] {
	const first = histogram.findIndex((n) => n > 0);
	if (first < 0) return [];
	let last = histogram.length - 1;
	while (last > first && !histogram[last]) last--;
	const buckets: HistogramBucket[] = [];
	for (let index = first; index <= last; index++) buckets.push({ index, ...bucketBoundsMs(index), count: histogram[index] ?? 0 });
	return buckets;
}
