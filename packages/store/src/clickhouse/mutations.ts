import type { ClickHouseClient } from '@clickhouse/client';
import { str } from './sql.ts';

/** How long a mutation may take before the call that started it fails. */
const MUTATION_DEADLINE_MS = 120_000;

/**
 * Waits until a table has no unfinished mutation. ClickHouse 18.16 runs `ALTER ... DELETE` in
 * the background and has no setting to wait for it, so this polls system.mutations.
 */
export async function awaitMutations(client: ClickHouseClient, database: string, table: string): Promise<void> {
	const deadline = Date.now() + MUTATION_DEADLINE_MS;
	for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
		const rows = await (
			await client.query({
				query: `SELECT count() AS n FROM system.mutations WHERE database = ${str(database)} AND table = ${str(table)} AND is_done = 0`,
				format: 'JSONEachRow',
			})
		).json<{ n: string }>();
		if (Number(rows[0]?.n ?? 0) === 0) return;
		if (Date.now() > deadline) throw new Error(`ClickHouse did not finish deleting from ${table} within ${MUTATION_DEADLINE_MS / 1000} s`);
		await new Promise((r) => setTimeout(r, delay));
	}
}
