import type { ClickHouseClient } from '@clickhouse/client';
import { MAX_WINDOW_MS } from './profile-query.ts';
import type { RetentionState } from './retention-state.ts';
import { WINDOW_TABLES } from './schema.ts';
import { writeMeta } from './schema.ts';
import { DAY_MS, dayOfPartition, num, str } from './sql.ts';

export interface PruneResult {
	/** `table/partition` of every dropped partition. */
	dropped: string[];
}

/**
 * Retention: raises the cutoff (and the requests' seq floor for the cap), which every query
 * honours at once, then drops each day partition that holds nothing the new values keep.
 * Rows of the partitions still kept that ended before the cutoff stay hidden until their
 * day's partition goes.
 */
export async function prune(
	client: ClickHouseClient,
	database: string,
	state: RetentionState,
	cutoffMs: number,
	maxRequests: number,
): Promise<PruneResult> {
	const cutoff = Math.max(state.cutoffMs, cutoffMs);
	const over = await (
		await client.query({
			query: `SELECT toString(seq) AS over_seq FROM http_requests WHERE seq >= ${num(state.requestSeq)} AND ts >= ${num(cutoff)}
			        ORDER BY seq DESC LIMIT 1 OFFSET ${num(Math.max(0, Math.floor(maxRequests)))}`,
			format: 'JSONEachRow',
		})
	).json<{ over_seq: string }>();
	const requestSeq = over[0] ? Math.max(state.requestSeq, Number(over[0].over_seq) + 1) : state.requestSeq;
	if (cutoff !== state.cutoffMs) {
		await writeMeta(client, 'retention.cutoffMs', cutoff);
		state.cutoffMs = cutoff;
	}
	if (requestSeq !== state.requestSeq) {
		await writeMeta(client, 'retention.requestSeq', requestSeq);
		state.requestSeq = requestSeq;
	}

	const parts = await (
		await client.query({
			query: `SELECT DISTINCT table, partition FROM system.parts
			        WHERE database = ${str(database)} AND active AND table IN (${[...WINDOW_TABLES, 'http_requests'].map(str).join(', ')})`,
			format: 'JSONEachRow',
		})
	).json<{ table: string; partition: string }>();
	// A request partition's newest seq, for the cap; only read when the cap hid something.
	const newestSeq = new Map<string, number>();
	if (state.requestSeq > 0) {
		const rows = await (
			await client.query({
				query: 'SELECT toString(toYYYYMMDD(day)) AS p, toString(max(seq)) AS newest FROM http_requests GROUP BY p',
				format: 'JSONEachRow',
			})
		).json<{ p: string; newest: string }>();
		for (const r of rows) newestSeq.set(r.p, Number(r.newest));
	}
	const dropped: string[] = [];
	for (const { table, partition } of parts) {
		const day = dayOfPartition(partition);
		if (day === undefined) continue;
		const dayEnd = (day + 1) * DAY_MS;
		// Windows start in their partition's day and last at most MAX_WINDOW_MS; requests are points.
		const ended = table === 'http_requests' ? dayEnd <= cutoff : dayEnd + MAX_WINDOW_MS < cutoff;
		const capped = table === 'http_requests' && (newestSeq.get(partition) ?? Infinity) < state.requestSeq;
		if (!ended && !capped) continue;
		await client.command({ query: `ALTER TABLE ${table} DROP PARTITION ID ${str(partition)}` });
		dropped.push(`${table}/${partition}`);
	}
	return { dropped };
}
